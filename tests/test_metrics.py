"""Per-class metrics agree with the framework metric they extend."""
import numpy as np
import pytest

from mmresize.evaluation.det_metrics import PerClassVOCMetric

CLASSES = ('RBC', 'WBC', 'Platelets')


def gt(boxes, labels):
    return dict(width=640, height=480,
                bboxes=np.array(boxes, np.float32).reshape(-1, 4),
                labels=np.array(labels, np.int64),
                bboxes_ignore=np.zeros((0, 4), np.float32),
                labels_ignore=np.zeros((0, ), np.int64))


def pred(per_class):
    return [np.array(per_class.get(c, []), np.float32).reshape(-1, 5)
            for c in range(len(CLASSES))]


def metric(**kwargs):
    m = PerClassVOCMetric(metric='mAP', eval_mode='area', **kwargs)
    m.dataset_meta = dict(classes=CLASSES)
    return m


def test_voc_box_convention_for_small_boxes():
    """A 10 px platelet (VOC convention: x2 - x1 + 1 wide) and a detection
    whose IoU is 0.513 in that convention and 0.486 in the continuous one:
    VOCMetric counts it at IoU 0.5, so must the per-class AP."""
    results = [(gt([[0, 0, 9, 9]], [2]),
                pred({2: [[0, 0, 9, 18.5, 0.9]]}))]
    out = metric().compute_metrics(results)
    assert out['mAP'] == pytest.approx(1.0)
    assert out['AP.Platelets'] == pytest.approx(100.0)


@pytest.mark.parametrize('iou_thrs', [0.5, [0.5, 0.75]])
def test_mean_of_per_class_ap_is_map(iou_thrs):
    rng = np.random.default_rng(0)
    results = []
    for _ in range(6):
        boxes, labels, dets = [], [], {}
        for _ in range(5):
            x, y = rng.uniform(0, 500, 2)
            w, h = rng.uniform(8, 80, 2)
            c = int(rng.integers(0, 3))
            boxes.append([x, y, x + w, y + h])
            labels.append(c)
            jitter = rng.normal(0, 0.15 * min(w, h), 4)
            dets.setdefault(c, []).append(
                [x + jitter[0], y + jitter[1], x + w + jitter[2],
                 y + h + jitter[3], rng.uniform(0.1, 1)])
            dets.setdefault(int(rng.integers(0, 3)), []).append(
                [x, y, x + w, y + h, rng.uniform(0, 0.5)])  # a confusion
        results.append((gt(boxes, labels), pred(dets)))
    out = metric(iou_thrs=iou_thrs).compute_metrics(results)
    per_class = [out[f'AP.{c}'] for c in CLASSES]
    assert 0 < out['mAP'] < 1
    assert np.mean(per_class) == pytest.approx(100 * out['mAP'], abs=0.01)
