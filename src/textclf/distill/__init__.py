"""Distillation: a small student learns the trained model's (the teacher's) probabilities."""
