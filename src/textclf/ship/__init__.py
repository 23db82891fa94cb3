"""Shipping: the ONNX export, the PyTorch and ONNX Runtime runtimes, the model card and the HTTP
service. The top layer below the stages and commands."""
