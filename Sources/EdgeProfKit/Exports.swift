@_exported import RunStore
@_exported import Reports
@_exported import RunRecords
// The facade re-exports the value types its API uses, so library users and the CLI import one module.
@_exported import CostModel
@_exported import DeviceSpec
@_exported import NNGraph
@_exported import Validation
@_exported import Accelerator
@_exported import enum KernelRunner.KernelISA
@_exported import enum Calibration.DriftProbe
@_exported import enum Calibration.QuietWait
// `CalibrateWorkflow.CalibrationRecord` (calibrate --save-measurements / --refit) holds these.
@_exported import struct Calibration.CalibrationSample
@_exported import enum Calibration.PointerChase
