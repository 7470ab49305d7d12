"""Key-informant panel surveys: instrument (XLSForm), panel store, mail, web service, analysis,
qualitative coding and the typology of sites."""
