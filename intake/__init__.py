"""The pure core: questionnaire, dialogue engine, eligibility, consult, lifecycle. No I/O."""
