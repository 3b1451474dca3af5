"""The prompts service: generative prompts for the note editor's "/" menu."""
