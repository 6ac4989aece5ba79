using EdgeCompile.Compiler;
using static EdgeCompile.Tests.Support.GraphBuilder;
using DT = EdgeCompile.Compiler.DataType;

namespace EdgeCompile.Tests.OrtOracle;

/// <summary>
/// A table of single-operator and small multi-operator graphs, built in code, run in our reference executor and
/// in ONNX Runtime, compared with tolerance (floats: rtol 1e-4, atol 1e-5) or exactly (integers, bool).
/// Each case is seeded by its name, so a failure reproduces with the same data.
/// </summary>
public class OrtOracleTests
{
    private static readonly Dictionary<string, Action<OracleCase>> Cases = new(StringComparer.Ordinal)
    {
        // ---------------- elementwise unary ----------------
        ["Abs"] = c => Unary(c, "Abs"),
        ["Neg"] = c => Unary(c, "Neg"),
        ["Exp"] = c => Unary(c, "Exp"),
        ["Log"] = c => c.Out(c.Op("Log", [c.In(c.Floats(0.01, 10, 2, 3, 4))])),
        ["Sqrt"] = c => c.Out(c.Op("Sqrt", [c.In(c.Floats(0, 10, 2, 3, 4))])),
        ["Reciprocal"] = c => c.Out(c.Op("Reciprocal", [c.In(c.Floats(0.1, 5, 2, 3, 4))])),
        ["Relu"] = c => Unary(c, "Relu"),
        ["Sigmoid"] = c => Unary(c, "Sigmoid"),
        ["Tanh"] = c => Unary(c, "Tanh"),
        ["Erf"] = c => Unary(c, "Erf"),
        ["Sin"] = c => Unary(c, "Sin"),
        ["Cos"] = c => Unary(c, "Cos"),
        ["Tan"] = c => c.Out(c.Op("Tan", [c.In(c.Floats(-1.2, 1.2, 2, 3, 4))])),
        ["Floor"] = c => Unary(c, "Floor"),
        ["Ceil"] = c => Unary(c, "Ceil"),
        ["Round_HalfToEven"] = c => c.Out(c.Op("Round", [c.In(OracleCase.F32(-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.49999997f, -3.7f, 4.2f))])),
        ["Sign"] = c => c.Out(c.Op("Sign", [c.In(OracleCase.F32(-2f, 0f, 3f, -0f, 0.5f))])),
        ["Softplus"] = c => Unary(c, "Softplus"),
        ["Softsign"] = c => Unary(c, "Softsign"),
        ["Elu"] = c => c.Out(c.Op("Elu", [c.In(c.F(2, 3, 4))], Float("alpha", 0.7f))),
        ["LeakyRelu"] = c => c.Out(c.Op("LeakyRelu", [c.In(c.F(2, 3, 4))], Float("alpha", 0.13f))),
        ["Selu"] = c => Unary(c, "Selu"),
        ["HardSigmoid"] = c => c.Out(c.Op("HardSigmoid", [c.In(c.Floats(-6, 6, 2, 3, 4))], Float("alpha", 0.25f), Float("beta", 0.4f))),
        ["HardSwish"] = c => c.Out(c.Op("HardSwish", [c.In(c.Floats(-6, 6, 2, 3, 4))])),
        ["Mish"] = c => { c.Opset(18); Unary(c, "Mish"); },
        ["Gelu_Tanh"] = c => { c.Opset(20); c.Out(c.Op("Gelu", [c.In(c.Floats(-4, 4, 2, 3, 4))], String("approximate", "tanh"))); },
        ["Gelu_Erf"] = c => { c.Opset(20); c.Out(c.Op("Gelu", [c.In(c.Floats(-4, 4, 2, 3, 4))])); },
        ["Clip_MinMaxInputs"] = c => c.Out(c.Op("Clip", [c.In(c.F(2, 3, 4)), c.Const(Tensor.Scalar(-0.5f)), c.Const(Tensor.Scalar(0.75f))])),
        ["Clip_Int32_MaxOnly"] = c => c.Out(c.Op("Clip", [c.In(c.Ints(DT.Int32, -50, 50, 3, 4)), "", c.Const(Tensor.Scalar(7))]), DT.Int32),
        ["Not"] = c => c.Out(c.Op("Not", [c.In(c.Bools(3, 4))]), DT.Bool),
        ["Exp_Double"] = c => c.Out(c.Op("Exp", [c.In(c.D(2, 3, 4))]), DT.Double),
        ["Identity_Int8"] = c => c.Out(c.Op("Identity", [c.In(c.Ints(DT.Int8, -128, 127, 3, 5))]), DT.Int8),

        // ---------------- elementwise binary / variadic with broadcasting ----------------
        ["Add_Broadcast_Trailing"] = c => c.Out(c.Op("Add", [c.In(c.F(2, 3, 4)), c.In(c.F(4))])),
        ["Sub_Broadcast_Both"] = c => c.Out(c.Op("Sub", [c.In(c.F(2, 1, 4)), c.In(c.F(3, 1))])),
        ["Mul_Broadcast_Ones"] = c => c.Out(c.Op("Mul", [c.In(c.F(1, 3, 1)), c.In(c.F(2, 1, 5))])),
        ["Div_Broadcast_Scalar"] = c => c.Out(c.Op("Div", [c.In(c.F(2, 3)), c.In(Tensor.Scalar(0.37f))])),
        ["Pow_PositiveBase"] = c => c.Out(c.Op("Pow", [c.In(c.Floats(0.1, 3, 2, 3)), c.In(c.F(3))])),
        ["Pow_IntegerExponent"] = c => c.Out(c.Op("Pow", [c.In(c.F(2, 3)), c.In(OracleCase.I64(2))])),
        ["Max_Variadic"] = c => c.Out(c.Op("Max", [c.In(c.F(2, 3, 4)), c.In(c.F(3, 1)), c.In(c.F(4))])),
        ["Min_Variadic"] = c => c.Out(c.Op("Min", [c.In(c.F(2, 1, 4)), c.In(c.F(3, 4))])),
        ["Sum_Variadic"] = c => c.Out(c.Op("Sum", [c.In(c.F(2, 3, 4)), c.In(c.F(1, 4)), c.In(c.F(2, 1, 1))])),
        ["Mean_Variadic"] = c => c.Out(c.Op("Mean", [c.In(c.F(3, 4)), c.In(c.F(4)), c.In(c.F(3, 1))])),
        ["Add_Int32"] = c => c.Out(c.Op("Add", [c.In(c.Ints(DT.Int32, -1000, 1000, 2, 3)), c.In(c.Ints(DT.Int32, -1000, 1000, 3))]), DT.Int32),
        ["Mul_Int64"] = c => c.Out(c.Op("Mul", [c.In(c.Ints(DT.Int64, -100000, 100000, 4, 1)), c.In(c.Ints(DT.Int64, -100000, 100000, 1, 3))]), DT.Int64),
        ["Div_Int32_Truncates"] = c => c.Out(c.Op("Div", [c.In(c.Ints(DT.Int32, -100, 100, 3, 4)), c.In(c.Ints(DT.Int32, 1, 9, 4))]), DT.Int32),
        ["Sub_Double"] = c => c.Out(c.Op("Sub", [c.In(c.D(3, 4)), c.In(c.D(4))]), DT.Double),
        ["Mod_Int32_SignOfDivisor"] = c => c.Out(c.Op("Mod", [c.In(c.Ints(DT.Int32, -50, 50, 3, 4)), c.In(OracleCase.I64(3, -3, 7, -7).CastTo(DT.Int32))]), DT.Int32),
        ["Mod_Float_Fmod"] = c => c.Out(c.Op("Mod", [c.In(c.Floats(-10, 10, 3, 4)), c.In(OracleCase.F32(1.5f, -2.5f, 3f, -0.7f))], Int("fmod", 1))),
        ["PRelu_BroadcastSlope"] = c => c.Out(c.Op("PRelu", [c.In(c.F(2, 3, 4)), c.In(c.F(3, 1))])),
        ["Equal_Int32"] = c => c.Out(c.Op("Equal", [c.In(c.Ints(DT.Int32, 0, 3, 3, 4)), c.In(c.Ints(DT.Int32, 0, 3, 4))]), DT.Bool),
        ["Greater_Float"] = c => c.Out(c.Op("Greater", [c.In(c.F(3, 4)), c.In(c.F(3, 1))]), DT.Bool),
        ["LessOrEqual_Int64"] = c => c.Out(c.Op("LessOrEqual", [c.In(c.Ints(DT.Int64, 0, 3, 2, 3)), c.In(c.Ints(DT.Int64, 0, 3, 3))]), DT.Bool),
        ["And_Or_Xor_Bool"] = c =>
        {
            string a = c.In(c.Bools(2, 3, 4)), b = c.In(c.Bools(3, 1));
            c.Out(c.Op("And", [a, b]), DT.Bool).Out(c.Op("Or", [a, b]), DT.Bool).Out(c.Op("Xor", [a, b]), DT.Bool);
        },
        ["Where_Broadcast3"] = c => c.Out(c.Op("Where", [c.In(c.Bools(2, 1, 4)), c.In(c.F(3, 1)), c.In(c.F(4))])),
        ["Where_UInt8"] = c => c.Out(c.Op("Where", [c.In(c.Bools(3, 4)), c.In(c.Ints(DT.UInt8, 0, 255, 3, 4)), c.In(c.Ints(DT.UInt8, 0, 255, 4))]), DT.UInt8),

        // ---------------- Cast ----------------
        ["Cast_FloatToInt32_Truncates"] = c => c.Out(c.Op("Cast", [c.In(c.Floats(-100, 100, 3, 4))], Int("to", (long)DT.Int32)), DT.Int32),
        ["Cast_Int64ToFloat"] = c => c.Out(c.Op("Cast", [c.In(c.Ints(DT.Int64, -1000000, 1000000, 3, 4))], Int("to", (long)DT.Float))),
        ["Cast_FloatToBool"] = c => c.Out(c.Op("Cast", [c.In(OracleCase.F32(0f, -0f, 1f, -2.5f, 0.001f, float.NaN))], Int("to", (long)DT.Bool)), DT.Bool),
        // Red until fixed: Tensor.ToInt64s tests `case sbyte[]` before `case byte[]`, and the CLR lets a byte[] match
        // sbyte[] (likewise ushort[]/short[], uint[]/int[]), so unsigned values >= 2^(bits-1) are read as negative
        // (uint8 175 -> -81). Repro: Tensor.FromArray(new byte[] { 175 }, 1).ToInt64s()[0] == -81.
        ["Cast_UInt8ToFloat"] = c => c.Out(c.Op("Cast", [c.In(c.Ints(DT.UInt8, 0, 255, 3, 4))], Int("to", (long)DT.Float))),
        ["Cast_Int8ToInt32"] = c => c.Out(c.Op("Cast", [c.In(c.Ints(DT.Int8, -128, 127, 3, 4))], Int("to", (long)DT.Int32)), DT.Int32),
        ["Cast_DoubleToFloat"] = c => c.Out(c.Op("Cast", [c.In(c.D(3, 4))], Int("to", (long)DT.Float))),
        ["Cast_FloatToFloat16"] = c => c.Out(c.Op("Cast", [c.In(c.F(3, 4))], Int("to", (long)DT.Float16)), DT.Float16),

        // ---------------- Gemm / MatMul / Einsum (await the MatMul-group merge) ----------------
        ["MatMul_2D"] = c => c.Out(c.Op("MatMul", [c.In(c.F(3, 4)), c.In(c.F(4, 5))])),
        ["MatMul_BatchedBroadcast"] = c => c.Out(c.Op("MatMul", [c.In(c.F(2, 1, 3, 4)), c.In(c.F(5, 4, 2))])),
        ["MatMul_VectorMatrix"] = c => c.Out(c.Op("MatMul", [c.In(c.F(4)), c.In(c.F(2, 4, 3))])),
        ["Gemm_TransAlphaBeta"] = c => c.Out(c.Op("Gemm", [c.In(c.F(4, 3)), c.Const(c.F(5, 4)), c.Const(c.F(5))],
            Int("transA", 1), Int("transB", 1), Float("alpha", 0.5f), Float("beta", 2f))),
        ["Gemm_NoC"] = c => c.Out(c.Op("Gemm", [c.In(c.F(2, 6)), c.Const(c.F(6, 3))])),
        ["Einsum_BatchMatMul"] = c => c.Out(c.Op("Einsum", [c.In(c.F(2, 3, 4)), c.In(c.F(2, 4, 5))], String("equation", "bij,bjk->bik"))),

        // ---------------- Conv / ConvTranspose / pooling (await the Conv-group merge) ----------------
        ["Conv_PadsStridesBias"] = c => c.Out(c.Op("Conv", [c.In(c.F(1, 3, 7, 7)), c.Const(c.F(4, 3, 3, 3)), c.Const(c.F(4))],
            Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2))),
        ["Conv_GroupsDilations"] = c => c.Out(c.Op("Conv", [c.In(c.F(2, 4, 6, 6)), c.Const(c.F(6, 2, 3, 3))],
            Int("group", 2), Ints("dilations", 2, 1), Ints("pads", 2, 1, 2, 0))),
        ["Conv_Depthwise_SameUpper"] = c => c.Out(c.Op("Conv", [c.In(c.F(1, 3, 5, 5)), c.Const(c.F(3, 1, 3, 3))],
            Int("group", 3), String("auto_pad", "SAME_UPPER"))),
        ["Conv_1D"] = c => c.Out(c.Op("Conv", [c.In(c.F(1, 2, 9)), c.Const(c.F(3, 2, 4))], Ints("strides", 2))),
        ["ConvTranspose_Stride2"] = c => c.Out(c.Op("ConvTranspose", [c.In(c.F(1, 2, 3, 3)), c.Const(c.F(2, 3, 3, 3)), c.Const(c.F(3))],
            Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Ints("output_padding", 1, 1))),
        ["MaxPool_CeilPads"] = c => c.Out(c.Op("MaxPool", [c.In(c.F(1, 2, 7, 7))],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("ceil_mode", 1))),
        ["AveragePool_ExcludePad"] = c => c.Out(c.Op("AveragePool", [c.In(c.F(1, 2, 6, 6))],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1))),
        ["AveragePool_IncludePad"] = c => c.Out(c.Op("AveragePool", [c.In(c.F(1, 2, 6, 6))],
            Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 1))),
        ["GlobalAveragePool"] = c => c.Out(c.Op("GlobalAveragePool", [c.In(c.F(2, 3, 4, 5))])),
        ["GlobalMaxPool"] = c => c.Out(c.Op("GlobalMaxPool", [c.In(c.F(2, 3, 4, 5))])),

        // ---------------- reductions ----------------
        ["ReduceSum_AxesInput_NoKeep"] = c => c.Out(c.Op("ReduceSum", [c.In(c.F(2, 3, 4)), c.Const(OracleCase.I64(0, -1))], Int("keepdims", 0))),
        ["ReduceSum_AllAxes"] = c => c.Out(c.Op("ReduceSum", [c.In(c.F(2, 3, 4))])),
        ["ReduceSum_Int64"] = c => c.Out(c.Op("ReduceSum", [c.In(c.Ints(DT.Int64, -1000, 1000, 3, 4)), c.Const(OracleCase.I64(1))]), DT.Int64),
        ["ReduceMean"] = c => c.Out(c.Op("ReduceMean", [c.In(c.F(2, 3, 4))], Ints("axes", 1))),
        ["ReduceMax_NoKeep"] = c => c.Out(c.Op("ReduceMax", [c.In(c.F(2, 3, 4))], Ints("axes", 0, 2), Int("keepdims", 0))),
        ["ReduceMin_Int32"] = c => c.Out(c.Op("ReduceMin", [c.In(c.Ints(DT.Int32, -100, 100, 3, 4))], Ints("axes", 0)), DT.Int32),
        ["ReduceProd"] = c => c.Out(c.Op("ReduceProd", [c.In(c.Floats(0.5, 1.5, 2, 3, 4))], Ints("axes", -1))),
        ["ReduceL1"] = c => c.Out(c.Op("ReduceL1", [c.In(c.F(2, 3, 4))], Ints("axes", 1))),
        ["ReduceL2"] = c => c.Out(c.Op("ReduceL2", [c.In(c.F(2, 3, 4))], Ints("axes", 1))),
        ["ReduceLogSumExp"] = c => c.Out(c.Op("ReduceLogSumExp", [c.In(c.Floats(-20, 20, 2, 3, 4))], Ints("axes", 2))),
        ["ReduceLogSum"] = c => c.Out(c.Op("ReduceLogSum", [c.In(c.Floats(0.1, 3, 2, 3, 4))], Ints("axes", 0))),
        ["ReduceSumSquare"] = c => c.Out(c.Op("ReduceSumSquare", [c.In(c.F(2, 3, 4))], Ints("axes", 0, 1))),
        ["ReduceMean_Opset18_AxesInput"] = c => { c.Opset(18); c.Out(c.Op("ReduceMean", [c.In(c.F(2, 3, 4)), c.Const(OracleCase.I64(-2))])); },
        ["ArgMax_NoKeep"] = c => c.Out(c.Op("ArgMax", [c.In(c.F(3, 4, 5))], Int("axis", 1), Int("keepdims", 0)), DT.Int64),
        ["ArgMin_LastIndex"] = c => c.Out(c.Op("ArgMin", [c.In(c.Ints(DT.Int32, 0, 2, 3, 6))], Int("axis", 1), Int("select_last_index", 1)), DT.Int64),
        ["CumSum_ExclusiveReverse"] = c => c.Out(c.Op("CumSum", [c.In(c.F(3, 4)), c.Const(Tensor.Scalar(1L))], Int("exclusive", 1), Int("reverse", 1))),
        ["TopK_Largest"] = c =>
        {
            var o = c.OpN("TopK", [c.In(c.F(3, 6)), c.Const(OracleCase.I64(3))], 2, Int("axis", 1));
            c.Out(o[0]).Out(o[1], DT.Int64);
        },

        // ---------------- softmax / normalization ----------------
        ["Softmax_Axis1"] = c => c.Out(c.Op("Softmax", [c.In(c.Floats(-10, 10, 2, 3, 4))], Int("axis", 1))),
        ["Softmax_LastAxis"] = c => c.Out(c.Op("Softmax", [c.In(c.Floats(-10, 10, 2, 3, 4))])),
        ["LogSoftmax"] = c => c.Out(c.Op("LogSoftmax", [c.In(c.Floats(-10, 10, 2, 3, 4))], Int("axis", 0))),
        ["Hardmax"] = c => c.Out(c.Op("Hardmax", [c.In(c.F(2, 3, 4))], Int("axis", 1))),
        ["LayerNormalization_LastAxis"] = c => c.Out(c.Op("LayerNormalization", [c.In(c.F(2, 3, 8)), c.Const(c.F(8)), c.Const(c.F(8))], Float("epsilon", 1e-5f))),
        ["LayerNormalization_Axis1"] = c => c.Out(c.Op("LayerNormalization", [c.In(c.F(2, 3, 4)), c.Const(c.F(3, 4))], Int("axis", 1))),
        ["BatchNormalization_Inference"] = c => c.Out(c.Op("BatchNormalization",
            [c.In(c.F(2, 3, 4, 4)), c.Const(c.F(3)), c.Const(c.F(3)), c.Const(c.F(3)), c.Const(c.Floats(0.5, 2, 3))], Float("epsilon", 1e-3f))),
        ["InstanceNormalization"] = c => c.Out(c.Op("InstanceNormalization", [c.In(c.F(2, 3, 4, 5)), c.Const(c.F(3)), c.Const(c.F(3))])),
        ["LpNormalization_L2"] = c => c.Out(c.Op("LpNormalization", [c.In(c.F(3, 5))], Int("axis", -1))),
        ["LRN"] = c => c.Out(c.Op("LRN", [c.In(c.F(1, 5, 3, 3))], Int("size", 3), Float("alpha", 1e-3f), Float("beta", 0.75f), Float("bias", 1f))),
        ["Dropout_Inference"] = c => c.Out(c.Op("Dropout", [c.In(c.F(3, 4))])),

        // ---------------- shape / data movement ----------------
        ["Transpose_Perm"] = c => c.Out(c.Op("Transpose", [c.In(c.F(2, 3, 4, 5))], Ints("perm", 2, 0, 3, 1))),
        ["Transpose_DefaultReverse_Int8"] = c => c.Out(c.Op("Transpose", [c.In(c.Ints(DT.Int8, -128, 127, 2, 3, 4))]), DT.Int8),
        ["Reshape_ZeroAndMinusOne"] = c => c.Out(c.Op("Reshape", [c.In(c.F(2, 3, 4)), c.Const(OracleCase.I64(0, -1, 2))])),
        ["Flatten_Axis2"] = c => c.Out(c.Op("Flatten", [c.In(c.F(2, 3, 4, 5))], Int("axis", 2))),
        ["Squeeze_Unsqueeze"] = c => c.Out(c.Op("Unsqueeze", [c.Op("Squeeze", [c.In(c.F(1, 3, 1, 4)), c.Const(OracleCase.I64(0, 2))]), c.Const(OracleCase.I64(-1, 1))])),
        ["Concat_Axis1_UInt8"] = c => c.Out(c.Op("Concat", [c.In(c.Ints(DT.UInt8, 0, 255, 2, 1, 3)), c.In(c.Ints(DT.UInt8, 0, 255, 2, 4, 3))], Int("axis", 1)), DT.UInt8),
        ["Concat_NegativeAxis"] = c => c.Out(c.Op("Concat", [c.In(c.F(2, 3)), c.In(c.F(2, 1)), c.In(c.F(2, 2))], Int("axis", -1))),
        ["Split_Uneven"] = c =>
        {
            var o = c.OpN("Split", [c.In(c.F(2, 7)), c.Const(OracleCase.I64(2, 4, 1))], 3, Int("axis", 1));
            c.Out(o[0]).Out(o[1]).Out(o[2]);
        },
        ["Slice_NegativeStep"] = c => c.Out(c.Op("Slice", [c.In(c.F(5, 6)), c.Const(OracleCase.I64(-1, 1)), c.Const(OracleCase.I64(-100, 5)),
            c.Const(OracleCase.I64(0, 1)), c.Const(OracleCase.I64(-2, 3))])),
        ["Slice_ClampedEnds"] = c => c.Out(c.Op("Slice", [c.In(c.F(4, 5, 6)), c.Const(OracleCase.I64(1, 2)), c.Const(OracleCase.I64(long.MaxValue, 100)), c.Const(OracleCase.I64(2, 0))])),
        ["Gather_Axis1_NegativeIndices"] = c => c.Out(c.Op("Gather", [c.In(c.F(3, 4, 2)), c.Const(Tensor.FromArray(new long[] { 0, -1, 2, -4, 1, 1 }, 2, 3))], Int("axis", 1))),
        ["Gather_ScalarIndex_Int32"] = c => c.Out(c.Op("Gather", [c.In(c.Ints(DT.Int32, -9, 9, 4, 3)), c.Const(Tensor.Scalar(2L))]), DT.Int32),
        ["GatherElements"] = c => c.Out(c.Op("GatherElements", [c.In(c.F(3, 4)), c.Const(Tensor.FromArray(new long[] { 0, 2, -1, 1, 2, 0, 0, 1 }, 2, 4))], Int("axis", 0))),
        ["Pad_Constant"] = c => c.Out(c.Op("Pad", [c.In(c.F(2, 3)), c.Const(OracleCase.I64(1, 0, 2, 3)), c.Const(Tensor.Scalar(1.5f))])),
        ["Pad_Reflect"] = c => c.Out(c.Op("Pad", [c.In(c.F(1, 3, 4)), c.Const(OracleCase.I64(0, 2, 1, 0, 1, 3))], String("mode", "reflect"))),
        ["Pad_Edge"] = c => c.Out(c.Op("Pad", [c.In(c.F(3, 4)), c.Const(OracleCase.I64(2, 1, 0, 2))], String("mode", "edge"))),
        ["Pad_NegativeCrops"] = c => c.Out(c.Op("Pad", [c.In(c.F(4, 5)), c.Const(OracleCase.I64(-1, 1, 0, -2))])),
        ["Expand"] = c => c.Out(c.Op("Expand", [c.In(c.F(3, 1)), c.Const(OracleCase.I64(2, 1, 4))])),
        ["Tile"] = c => c.Out(c.Op("Tile", [c.In(c.F(2, 3)), c.Const(OracleCase.I64(2, 3))])),
        ["DepthToSpace_CRD"] = c => c.Out(c.Op("DepthToSpace", [c.In(c.F(1, 8, 2, 3))], Int("blocksize", 2), String("mode", "CRD"))),
        ["DepthToSpace_DCR"] = c => c.Out(c.Op("DepthToSpace", [c.In(c.F(1, 8, 2, 3))], Int("blocksize", 2))),
        ["SpaceToDepth"] = c => c.Out(c.Op("SpaceToDepth", [c.In(c.F(1, 2, 4, 6))], Int("blocksize", 2))),
        ["Shape_Size"] = c => { string x = c.In(c.F(2, 3, 4)); c.Out(c.Op("Shape", [x], Int("start", 1)), DT.Int64).Out(c.Op("Size", [x]), DT.Int64); },
        ["ConstantOfShape"] = c => c.Out(c.Op("ConstantOfShape", [c.In(OracleCase.I64(2, 3))], TensorAttr("value", Tensor.FromArray(new[] { 2.5f }, 1)))),
        ["Range_Float"] = c => c.Out(c.Op("Range", [c.In(Tensor.Scalar(1.5f)), c.In(Tensor.Scalar(-3f)), c.In(Tensor.Scalar(-0.7f))])),
        ["Trilu_Lower_K"] = c => c.Out(c.Op("Trilu", [c.In(c.F(2, 4, 5)), c.Const(Tensor.Scalar(1L))], Int("upper", 0))),
        ["OneHot"] = c => c.Out(c.Op("OneHot", [c.In(Tensor.FromArray(new long[] { 0, 3, -1, 2 }, 2, 2)), c.Const(Tensor.Scalar(4L)), c.Const(OracleCase.F32(-1f, 5f))])),
        ["ScatterElements_Add"] = c => { c.Opset(18); c.Out(c.Op("ScatterElements", [c.In(c.F(3, 4)), c.Const(Tensor.FromArray(new long[] { 0, 2, 0, 1, 1, 1 }, 2, 3)), c.In(c.F(2, 3))], Int("axis", 0), String("reduction", "add"))); },
        ["ScatterND"] = c => c.Out(c.Op("ScatterND", [c.In(c.F(4, 3)), c.Const(Tensor.FromArray(new long[] { 3, 0 }, 2, 1)), c.In(c.F(2, 3))])),

        // ---------------- Resize (awaits merge) ----------------
        ["Resize_NearestScales"] = c => c.Out(c.Op("Resize", [c.In(c.F(1, 2, 3, 4)), "", c.Const(OracleCase.F32(1, 1, 2, 1.5f))],
            String("mode", "nearest"), String("coordinate_transformation_mode", "asymmetric"), String("nearest_mode", "floor"))),
        ["Resize_LinearSizes_HalfPixel"] = c => c.Out(c.Op("Resize", [c.In(c.F(1, 2, 3, 4)), "", "", c.Const(OracleCase.I64(1, 2, 5, 7))],
            String("mode", "linear"), String("coordinate_transformation_mode", "half_pixel"))),
        ["Resize_CubicAlignCorners"] = c => c.Out(c.Op("Resize", [c.In(c.F(1, 1, 4, 4)), "", c.Const(OracleCase.F32(1, 1, 1.5f, 2))],
            String("mode", "cubic"), String("coordinate_transformation_mode", "align_corners"))),

        // ---------------- Quantize / Dequantize (await merge) ----------------
        ["QuantizeLinear_UInt8"] = c => c.Out(c.Op("QuantizeLinear", [c.In(c.Floats(-3, 3, 2, 3, 4)), c.Const(Tensor.Scalar(0.025f)), c.Const(Tensor.Scalar((byte)128))]), DT.UInt8),
        ["QuantizeLinear_Int8_PerAxis"] = c => c.Out(c.Op("QuantizeLinear", [c.In(c.Floats(-3, 3, 2, 3, 4)), c.Const(OracleCase.F32(0.01f, 0.02f, 0.05f)),
            c.Const(Tensor.FromArray(new sbyte[] { 0, -5, 10 }, 3))], Int("axis", 1)), DT.Int8),
        ["QuantizeLinear_RoundsHalfToEven"] = c => c.Out(c.Op("QuantizeLinear", [c.In(OracleCase.F32(0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300f, -300f)), c.Const(Tensor.Scalar(1f)), c.Const(Tensor.Scalar((sbyte)0))]), DT.Int8),
        ["DequantizeLinear_UInt8"] = c => c.Out(c.Op("DequantizeLinear", [c.In(c.Ints(DT.UInt8, 0, 255, 2, 3, 4)), c.Const(Tensor.Scalar(0.05f)), c.Const(Tensor.Scalar((byte)100))])),
        ["DequantizeLinear_Int8_PerAxis"] = c => c.Out(c.Op("DequantizeLinear", [c.In(c.Ints(DT.Int8, -128, 127, 2, 3, 4)), c.Const(OracleCase.F32(0.1f, 0.2f, 0.3f)),
            c.Const(Tensor.FromArray(new sbyte[] { 1, -2, 3 }, 3))], Int("axis", 1))),
        ["QDQ_RoundTrip"] = c => c.Out(c.Op("DequantizeLinear", [c.Op("QuantizeLinear", [c.In(c.Floats(-3, 3, 4, 5)), c.Const(Tensor.Scalar(0.02f)), c.Const(Tensor.Scalar((byte)128))]),
            c.Const(Tensor.Scalar(0.02f)), c.Const(Tensor.Scalar((byte)128))])),

        // ---------------- small multi-op graphs ----------------
        ["Chain_Elementwise_Reduce"] = c =>
        {
            string x = c.In(c.F(2, 3, 4));
            string y = c.Op("Relu", [c.Op("Mul", [c.Op("Add", [x, c.Const(c.F(4))]), c.Const(c.F(3, 1))])]);
            c.Out(c.Op("ReduceMean", [c.Op("Sqrt", [c.Op("Add", [y, c.Const(Tensor.Scalar(1f))])])], Ints("axes", 1), Int("keepdims", 0)));
        },
        ["DynamicReshape_ShapeGatherConcat"] = c =>
        {
            string x = c.In(c.F(2, 3, 4));
            string batch = c.Op("Unsqueeze", [c.Op("Gather", [c.Op("Shape", [x]), c.Const(Tensor.Scalar(0L))]), c.Const(OracleCase.I64(0))]);
            string shape = c.Op("Concat", [batch, c.Const(OracleCase.I64(-1))], Int("axis", 0));
            c.Out(c.Op("Softmax", [c.Op("Reshape", [x, shape])]));
        },
        ["Manual_LayerNorm_FromPrimitives"] = c =>
        {
            string x = c.In(c.F(2, 3, 8));
            string mean = c.Op("ReduceMean", [x], Ints("axes", -1));
            string d = c.Op("Sub", [x, mean]);
            string v = c.Op("ReduceMean", [c.Op("Mul", [d, d])], Ints("axes", -1));
            string y = c.Op("Div", [d, c.Op("Sqrt", [c.Op("Add", [v, c.Const(Tensor.Scalar(1e-5f))])])]);
            c.Out(c.Op("Transpose", [c.Op("Slice", [y, c.Const(OracleCase.I64(1)), c.Const(OracleCase.I64(7)), c.Const(OracleCase.I64(2))])], Ints("perm", 2, 0, 1)));
        },
        ["Mlp_MatMulAddGeluSoftmax"] = c =>
        {
            c.Opset(20);
            string x = c.In(c.F(2, 5, 8));
            string h = c.Op("Gelu", [c.Op("Add", [c.Op("MatMul", [x, c.Const(c.F(8, 16))]), c.Const(c.F(16))])]);
            c.Out(c.Op("Softmax", [c.Op("Add", [c.Op("MatMul", [h, c.Const(c.F(16, 4))]), c.Const(c.F(4))])]));
        },
        ["Attention_Tiny"] = c =>
        {
            string q = c.In(c.F(2, 4, 8)), k = c.In(c.F(2, 4, 8)), v = c.In(c.F(2, 4, 8));
            string s = c.Op("Div", [c.Op("MatMul", [q, c.Op("Transpose", [k], Ints("perm", 0, 2, 1))]), c.Const(Tensor.Scalar(MathF.Sqrt(8)))]);
            c.Out(c.Op("MatMul", [c.Op("Softmax", [s]), v]));
        },
        ["CnnBlock_ConvBnReluMaxPoolGemm"] = c =>
        {
            string x = c.In(c.F(2, 3, 8, 8));
            string conv = c.Op("Conv", [x, c.Const(c.F(4, 3, 3, 3)), c.Const(c.F(4))], Ints("pads", 1, 1, 1, 1));
            string bn = c.Op("BatchNormalization", [conv, c.Const(c.F(4)), c.Const(c.F(4)), c.Const(c.F(4)), c.Const(c.Floats(0.5, 2, 4))]);
            string pool = c.Op("MaxPool", [c.Op("Relu", [bn])], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
            string flat = c.Op("Flatten", [pool]);
            c.Out(c.Op("Gemm", [flat, c.Const(c.F(10, 64)), c.Const(c.F(10))], Int("transB", 1)));
        },
    };

    private static void Unary(OracleCase c, string op) => c.Out(c.Op(op, [c.In(c.F(2, 3, 4))]));

    public static TheoryData<string> CaseNames => new(Cases.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesOnnxRuntime(string name)
    {
        var c = new OracleCase(StableSeed(name));
        Cases[name](c);
        OracleAssert.SameAsOrt(c.Build(), c.Inputs, c.Rtol, c.Atol);
    }

    [Fact]
    public void RunnerRoundTripsEveryRequiredType()
    {
        // Identity through ORT must give back the same bytes for each element type the oracle feeds.
        var c = new OracleCase(1);
        Tensor[] values =
        [
            c.F(2, 3), c.D(3), c.Ints(DT.Int32, int.MinValue, int.MaxValue, 4), c.Ints(DT.Int64, long.MinValue, long.MaxValue - 1, 2, 2),
            c.Bools(5), c.Ints(DT.UInt8, 0, 255, 6), c.Ints(DT.Int8, -128, 127, 1, 6), Tensor.Scalar(3.25f), Tensor.Zeros(DT.Float, [2, 0, 3]),
        ];
        foreach (var v in values) c.Out(c.Op("Identity", [c.In(v)]), v.DataType);
        var model = c.Build();
        var ort = OrtRunner.Run(model, c.Inputs);
        for (int i = 0; i < values.Length; i++)
        {
            var got = ort[model.Graph.Outputs[i].Name];
            Assert.Equal(values[i].DataType, got.DataType);
            Assert.Equal(values[i].Shape, got.Shape);
            Assert.Equal(values[i].Data, got.Data);
        }
    }

    /// <summary>string.GetHashCode is randomized per process; this one is not.</summary>
    internal static int StableSeed(string s)
    {
        unchecked
        {
            int h = (int)2166136261;
            foreach (char ch in s) h = (h ^ ch) * 16777619;
            return h & 0x7fffffff;
        }
    }
}
