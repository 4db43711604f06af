"""Training, evaluation, calibration and export of the arfilter emotion model."""
