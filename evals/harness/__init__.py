"""The eval harness: query-set loader, runner, graders, reports, plots and run comparison (see evals/README.md)."""
