"""Detection datasets (COCO, VOC-layout, generated), mosaic wrapper and robust image I/O."""

from .coco import COCODataset
from .coco_classes import COCO_CLASSES
from .datasets_wrapper import CacheDataset, ConcatDataset, Dataset, MixConcatDataset
from .detection_base import DetectionDataset, ImageRecord
from .errors import DatasetError, Problem
from .folder_layout import FOLDER_FORMATS
from .image_io import read_image
from .mosaicdetection import MosaicDetection
from .synthetic import SYNTHETIC_CLASSES, ensure_synthetic_dataset
from .voc import VOCDetection
from .voc_classes import VOC_CLASSES
from .xml_folder import VOCFlatDetection
from .yolo_txt import YOLODetection

__all__ = [
    "COCODataset",
    "COCO_CLASSES",
    "Dataset",
    "CacheDataset",
    "ConcatDataset",
    "MixConcatDataset",
    "DetectionDataset",
    "ImageRecord",
    "DatasetError",
    "Problem",
    "read_image",
    "MosaicDetection",
    "SYNTHETIC_CLASSES",
    "ensure_synthetic_dataset",
    "VOCDetection",
    "VOC_CLASSES",
    "VOCFlatDetection",
    "YOLODetection",
    "FOLDER_FORMATS",
]
