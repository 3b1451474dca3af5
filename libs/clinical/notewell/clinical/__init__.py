"""Clinical rules shared by the drafter and prompts: measurement instruments and their
cut-offs, wearable trends, and the grounding checks every generated text passes."""
