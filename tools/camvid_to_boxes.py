"""Derive a detection set from CamVid's label maps: CamVidDet, the same
images with a box per 8-connected component of Car, Pedestrian, Bicyclist
and SignSymbol pixels (Pascal VOC layout; derived, not annotated: see
``mmresize.datasets.camvid_boxes``).

    python tools/camvid_to_boxes.py $MMRESIZE_DATA/camvid $MMRESIZE_DATA/camvid_det

writes DST/CamVidDet/{Annotations,ImageSets/Main/{train,val}.txt,
JPEGImages (links to the PNGs; --copy copies them),STATS.json} and prints
the box statistics. An existing DST/CamVidDet is refused.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmresize.datasets.camvid_boxes import MIN_AREA, convert  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='CamVid folder (train/, trainannot/, '
                        'val/, valannot/)')
    parser.add_argument('dst', help='where CamVidDet/ is written')
    parser.add_argument('--min-area', type=int, default=MIN_AREA,
                        help='smallest component kept, in pixels')
    parser.add_argument('--copy', action='store_true',
                        help='copy the images instead of linking them')
    args = parser.parse_args()
    try:
        stats = convert(args.src, args.dst, args.min_area, args.copy)
    except (FileExistsError, FileNotFoundError) as err:
        sys.exit(str(err))
    print(f'wrote {osp.join(args.dst, "CamVidDet")} (components of at least '
          f'{args.min_area} px)')
    print('| split | class | boxes | images with one | median w x h (px) | '
          'longer side < 16 px | < 32 px |')
    print('|---|---|---:|---:|---|---:|---:|')
    for split, s in stats['splits'].items():
        for name, c in s['classes'].items():
            size = ('' if c['boxes'] == 0 else
                    f'{c["median_width"]:.0f} x {c["median_height"]:.0f}')
            share = ('' if c['boxes'] == 0 else
                     f'{100 * c["under_16px"]:.0f}% | '
                     f'{100 * c["under_32px"]:.0f}%')
            print(f'| {split} ({s["images"]} images) | {name} | {c["boxes"]} '
                  f'| {c["images"]} | {size} | {share or " | "} |')


if __name__ == '__main__':
    main()
