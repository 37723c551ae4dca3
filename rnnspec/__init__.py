"""rnnspec: an executable specification of recurrent networks in PyTorch."""
