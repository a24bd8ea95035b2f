"""Customer emotion (客户情绪) of a call: ``lexicon`` (the word lexicon and its loader), ``scorer`` (scores
of utterances and of the whole call) and ``classifier`` (an optional local text classifier as the backend).
"""
