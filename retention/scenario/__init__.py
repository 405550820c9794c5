"""What-if scenarios: modifications over the baseline, shuttle operations, evaluation, siting."""
