"""The prompts service: the note editor's "/" menu (generative prompts and blank
templates) and Insights.

The package name is shared with the generated code in libs/contracts
(notewell.prompts.v1); each half extends the package path so either may load first.
Data files are therefore read relative to the modules, not through the package."""

__path__ = __import__("pkgutil").extend_path(__path__, __name__)
