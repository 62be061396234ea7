"""Packaging for mmresize. Run ``bash tools/setup.sh`` to install the whole stack.

Builds one optional C++ extension, ``mmresize._ext`` (the fused DownsizeNet
texture op for CPU), when torch is importable at build time. Environment:
``MMRESIZE_WITH_OPS=0`` skips it (the PyTorch path is used instead);
``MMRESIZE_CPU_ARCH`` sets ``-march`` (default ``native``: the extension is
built for the machine that installs it).
"""
import os
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_version() -> str:
    scope: dict = {}
    exec((HERE / 'mmresize' / 'version.py').read_text(), scope)
    return scope['__version__']


def extensions() -> dict:
    if os.environ.get('MMRESIZE_WITH_OPS', '1') == '0':
        return {}
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension
    except ImportError:
        print('mmresize: torch is not importable, building without the '
              'compiled op (install torch first for the fast CPU path)')
        return {}
    arch = os.environ.get('MMRESIZE_CPU_ARCH', 'native')
    ext = CppExtension(
        'mmresize._ext', ['mmresize/csrc/texture_at_anchors.cpp'],
        extra_compile_args=['-O3', f'-march={arch}', '-fopenmp'],
        extra_link_args=['-fopenmp'])
    return dict(ext_modules=[ext],
                cmdclass={'build_ext': BuildExtension.with_options(
                    use_ninja=True)})


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
    **extensions(),
)
