"""Files in and out: history files, tables, TensorBoard event files, the remembered view."""
