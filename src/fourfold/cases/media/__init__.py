"""Media tooling for image and video cases: encoding (``encode``), frame sampling and
the frame cache (``video``), perturbations (``perturb``).

Import from the submodule that holds a name. The package itself imports nothing, so
reading frames (``media.video``, as the runner and the web app do) does not also load
the perturbations and the encoder.
"""
