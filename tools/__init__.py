"""Outside the product's layers: the demo and the synthetic reserve, shared by the CLI and benchmarks."""
