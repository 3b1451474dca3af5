"""The drafter: turns a sealed session transcript into a draft SOAP progress note."""
