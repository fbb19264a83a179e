"""The volunteer passport's verification: organisations verify or reject the credentials people claim."""
