"""Hours on the Volunteer Passport: deployments, non-emergency activities, and the milestones they reach."""
