"""mmresize: learned image downsizing (DownsizeNet, Ma & Li, BMVC 2022) for
MMDetection 3.x and MMSegmentation 1.x."""
from .version import __version__

__all__ = ['__version__']
