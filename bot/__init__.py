"""示例银行 assistant: the Rasa project, its NLU components, actions and banking backend."""
