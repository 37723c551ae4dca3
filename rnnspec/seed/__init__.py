"""The seed notebook's seven methods: the table of methods, their weights, the errata."""
