"""Packaging for mmresize. Run ``bash tools/setup.sh`` to install the whole stack."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_version() -> str:
    scope: dict = {}
    exec((HERE / 'mmresize' / 'version.py').read_text(), scope)
    return scope['__version__']


setup(
    name='mmresize',
    version=read_version(),
    description='Learned task-aware image downsizing (DownsizeNet) for '
    'MMDetection 3.x and MMSegmentation 1.x',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmresize', 'mmresize.*']),
    python_requires='>=3.8',
    install_requires=[
        'torch>=1.8',
        'mmengine>=0.10.0,<1.0.0',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmdet>=3.0.0,<3.4.0',
        'mmsegmentation>=1.0.0,<1.3.0',
        'ftfy',
        'regex',
        'pycocotools',
        'matplotlib',
        'setuptools>=77,<82',
    ],
    extras_require={'tests': ['pytest>=7', 'ruff']},
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
