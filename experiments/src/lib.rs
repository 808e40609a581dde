//! Shared harness for the experiments: machine facts, output folders, charts.
