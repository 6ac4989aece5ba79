using System.Globalization;

namespace EdgeCompile.Compiler.Lowering;

/// <summary>One argument of a kernel call, before buffers are assigned.</summary>
public abstract record CallArg
{
    /// <summary>A graph value (input, intermediate, output or constant), read or written by the kernel.</summary>
    public sealed record Value(string Name, bool Write) : CallArg;
    public sealed record Empty(DataType Type) : CallArg;
    public sealed record Int(long V) : CallArg;
    /// <summary>A 64-bit literal (plan token <c>l:</c>).</summary>
    public sealed record Long(long V) : CallArg;
    public sealed record Float(float V) : CallArg;
    public sealed record Bool(bool V) : CallArg;
    public sealed record Enum(string TypeAndMember) : CallArg;
    public sealed record Ints(int[] V) : CallArg;

    public static string FloatToken(float v) =>
        float.IsNaN(v) ? "NaN" : float.IsPositiveInfinity(v) ? "Inf" : float.IsNegativeInfinity(v) ? "-Inf" : v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A kernel call: <c>Type.Method(args)</c>, attributed to the ONNX node(s) it computes.</summary>
public sealed record KernelCall(string Method, IReadOnlyList<CallArg> Args, string NodeName, string OpType);
