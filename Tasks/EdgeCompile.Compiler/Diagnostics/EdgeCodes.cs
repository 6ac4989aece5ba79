namespace EdgeCompile.Compiler.Diagnostics;

/// <summary>
/// Every diagnostic code the compiler emits. Codes are stable: never renumber, only add.
/// docs/diagnostics.md documents each one (a test checks that every constant here is documented).
/// </summary>
public static class EdgeCodes
{
    // 1000-1099: reading the model file.
    /// <summary>The model file does not exist or cannot be opened.</summary>
    public const string FileNotFound = "EDGE1001";
    /// <summary>The bytes are not a well-formed protobuf message (truncation, bad varint, length past the end, wrong wire type).</summary>
    public const string MalformedProtobuf = "EDGE1002";
    /// <summary>Messages are nested deeper than the configured limit.</summary>
    public const string NestingTooDeep = "EDGE1003";
    /// <summary>A configured resource limit (file size, tensor elements, node count) is exceeded.</summary>
    public const string LimitExceeded = "EDGE1004";
    /// <summary>The file parses but is not an ONNX model (no graph, bad IR version).</summary>
    public const string NotAModel = "EDGE1005";

    // 1100-1199: tensors and types.
    /// <summary>The tensor's data does not match its declared type and dimensions.</summary>
    public const string TensorSizeMismatch = "EDGE1101";
    /// <summary>The data type is unknown or outside the supported set.</summary>
    public const string UnsupportedDataType = "EDGE1102";
    /// <summary>A dimension is negative where forbidden, or the product of dimensions overflows.</summary>
    public const string InvalidDimension = "EDGE1103";
    /// <summary>An external-data location is absolute, escapes the model folder or passes through a link.</summary>
    public const string ExternalDataOutsideModelFolder = "EDGE1104";
    /// <summary>An external-data file is missing, or the offset/length point past its end.</summary>
    public const string ExternalDataUnreadable = "EDGE1105";

    // 1200-1299: graph structure.
    /// <summary>Two values or nodes define the same name.</summary>
    public const string DuplicateName = "EDGE1201";
    /// <summary>A node consumes a value that nothing produces.</summary>
    public const string UndefinedValue = "EDGE1202";
    /// <summary>The graph has a cycle.</summary>
    public const string Cycle = "EDGE1203";
    /// <summary>A graph output is not produced.</summary>
    public const string MissingOutput = "EDGE1204";
    /// <summary>A model-local function calls itself (directly or not), or its call is malformed.</summary>
    public const string InvalidFunction = "EDGE1205";

    // 1300-1399: operators.
    /// <summary>The operator (domain, op type) is not supported.</summary>
    public const string UnsupportedOperator = "EDGE1301";
    /// <summary>An attribute is unknown, missing, of the wrong type, or has a value the operator does not support.</summary>
    public const string InvalidAttribute = "EDGE1302";
    /// <summary>A node has the wrong number of inputs or outputs, or a required input is missing.</summary>
    public const string InvalidArity = "EDGE1303";
    /// <summary>Input shapes or types are incompatible with the operator.</summary>
    public const string ShapeMismatch = "EDGE1304";
    /// <summary>The operator set version is not supported.</summary>
    public const string UnsupportedOpset = "EDGE1305";
    /// <summary>A value the operator needs at run time is out of range (e.g. an index).</summary>
    public const string InvalidValue = "EDGE1306";

    // 1400-1499: executing.
    /// <summary>A model input given to the executor has the wrong type or shape, or is missing.</summary>
    public const string BadModelInput = "EDGE1401";

    // 2000-2099: build integration and metadata.
    /// <summary>An EdgeModel item's metadata value is unknown or malformed (e.g. ClassName, InputShapes).</summary>
    public const string InvalidMetadata = "EDGE2001";
    /// <summary>An output file cannot be written (read-only folder, disk full).</summary>
    public const string OutputNotWritable = "EDGE2002";

    // 2100-2199: lowering to kernels.
    /// <summary>An operator (or this use of it: data type, rank, attribute) has no runtime kernel yet.</summary>
    public const string NoKernel = "EDGE2101";
    /// <summary>A value's shape is not static; the generated code needs static shapes (InputShapes metadata).</summary>
    public const string DynamicShape = "EDGE2102";
    /// <summary>The model's input or output type cannot be a Run parameter.</summary>
    public const string UnsupportedSignature = "EDGE2103";

    // 1500-1599: data files (calibration, validation, test sets).
    /// <summary>A data file (.npy/.npz) is missing, malformed, or of an unsupported dtype.</summary>
    public const string DataFileUnreadable = "EDGE1501";

    // 4000-4099: quantization (calibration data, calibration, quantization parameters).
    /// <summary>Calibration data does not match the model's inputs (array names, dtype, shape, sample counts).</summary>
    public const string CalibrationDataMismatch = "EDGE4001";
    /// <summary>Calibration data holds NaN or infinite values.</summary>
    public const string CalibrationDataNotFinite = "EDGE4002";
    /// <summary>Too few calibration samples: none is an error, fewer than the recommended minimum a warning.</summary>
    public const string TooFewCalibrationSamples = "EDGE4003";
    /// <summary>Warning: a tensor's calibrated range is zero (constant zero) or not finite; a safe scale is used.</summary>
    public const string DegenerateRange = "EDGE4004";
    /// <summary>A quantization option is invalid (unknown method or mode, percentile outside (0, 100], bad bin count).</summary>
    public const string InvalidQuantizationOption = "EDGE4005";
    /// <summary>A pre-quantized model's QuantizeLinear/DequantizeLinear parameters are unusable (non-constant, zero, negative or non-finite scale).</summary>
    public const string InvalidQuantParams = "EDGE4006";
    /// <summary>The int8 model's build-time top-1 is below the float model's by more than MaxAccuracyDrop.</summary>
    public const string AccuracyDropExceeded = "EDGE4007";
    /// <summary>Warning: Int8Dynamic / Int8WeightOnly found no layer to quantize; the model stays float32.</summary>
    public const string NothingQuantized = "EDGE4008";
    /// <summary>LayerPrecision names something that is no node or node output of the model.</summary>
    public const string UnknownLayerPrecisionName = "EDGE4010";
    /// <summary>LayerPrecision asks for Int8 on a layer the int8 lowering cannot run in int8.</summary>
    public const string LayerPrecisionNotPossible = "EDGE4011";
    /// <summary>Quantization Auto: no plan with any layer quantized meets MaxAccuracyDrop (an error; a warning with AccuracyBudgetMode="Warn").</summary>
    public const string AccuracyBudgetNotMet = "EDGE4012";
    /// <summary>Quantization Auto: MaxSearchSeconds ran out before the all-int8 plan was evaluated (error; warning with AccuracyBudgetMode="Warn").</summary>
    public const string SearchTimeTooShort = "EDGE4013";
    /// <summary>Quantization Auto: top-1 cannot be measured on the evaluation data (an output with fewer than 2 classes, or labels outside the classes).</summary>
    public const string AccuracyNotMeasurable = "EDGE4014";
    /// <summary>EdgeTargetDevice names no known device profile, or the profile file is missing or malformed.</summary>
    public const string InvalidDeviceProfile = "EDGE4015";
    /// <summary>The device profile's architecture differs from the RuntimeIdentifier's.</summary>
    public const string DeviceArchitectureMismatch = "EDGE4016";

    // 5000-5099: pruning.
    /// <summary>A Pruning, PruningLayers, PruningExclude, PruningSteps or PruningCriterion value is malformed or out of range.</summary>
    public const string InvalidPruningOption = "EDGE5001";
    /// <summary>PruningLayers or PruningExclude names a layer the model does not have (or one that has no weights to prune).</summary>
    public const string UnknownPruningLayer = "EDGE5002";
    /// <summary>The requested rate would remove every output channel (or every weight) of a layer.</summary>
    public const string PruningRemovesEverything = "EDGE5003";
    /// <summary>Warning: a layer was left unpruned because the graph around it does not allow removing channels safely.</summary>
    public const string LayerLeftUnpruned = "EDGE5004";

    // 9000: our bugs.
    /// <summary>An internal compiler error (a bug in EdgeCompile, not in the model).</summary>
    public const string InternalError = "EDGE9001";

    /// <summary>All codes, for documentation checks.</summary>
    public static IEnumerable<string> All => typeof(EdgeCodes).GetFields()
        .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);
}
