"""Analysis of the key-informant panel survey: validated inputs, descriptive tables, change between
waves (GEE clustered by Pioneer, McNemar, Stuart–Maxwell), codes by org type, charts.

Example:
    >>> from joinedup.survey.analysis import analyse
    >>> # analyse("invitations.csv", "responses.csv", out_dir="out")
"""

from joinedup.survey.analysis.inputs import SurveyData, SurveyInputError, read_inputs
from joinedup.survey.analysis.run import analyse

__all__ = ["SurveyData", "SurveyInputError", "analyse", "read_inputs"]
