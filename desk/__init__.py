"""The Meldpunt's use cases (submit, correct, decide, dispatch, feedback, reminders, catalogue changes): session + core + clock."""
