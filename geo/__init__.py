"""Pure geometry and spatial analysis for gridtwin: no I/O, no Dash."""
