using System.Globalization;
using EdgeCompile.Generators.Model;

namespace EdgeCompile.Generators;

public sealed partial class EdgePlanGenerator
{
    /// <summary>
    /// Maps one call argument to one C# expression, exactly per the table in docs/edgeplan.md. Every number is
    /// written with the invariant culture: a culture whose minus sign is U+2212 would otherwise break literals.
    /// </summary>
    private static string ArgumentExpression(PlanSpec plan, ArgumentSpec argument, IntsTable ints, string arena) => argument switch
    {
        InputArgument a => Identifier(plan.Inputs.First(t => t.Index == a.Index).Name),
        OutputArgument a => Identifier(plan.Outputs.First(t => t.Index == a.Index).Name),
        // The byte count is a literal (count * element size), not 'count * sizeof(T)'.
        ArenaArgument a => "global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, " + CSharpType(a.Type) + ">("
            + arena + ".Slice(" + Inv(a.ByteOffset) + ", " + Inv((long)a.Count * SizeOf(a.Type)) + "))",
        WeightArgument a => "s_weights.Get<" + CSharpType(a.Type) + ">(" + Inv(a.ByteOffset) + ", " + Inv(a.Count) + ")",
        EmptyArgument a => ReadOnlySpan + "<" + CSharpType(a.Type) + ">.Empty",
        IntArgument a => Inv(a.Value),
        LongArgument a => Inv(a.Value) + "L",
        FloatArgument a => FloatLiteral(a.Value),
        BoolArgument a => a.Value ? "true" : "false",
        EnumArgument a => "global::EdgeCompile.Kernels." + a.Type + "." + a.Member,
        IntsArgument a => a.Values.Count == 0 ? ReadOnlySpan + "<int>.Empty" : ints.NameOf(a.Values),
        _ => throw new InvalidOperationException("Unknown argument " + argument),
    };

    /// <summary>A float literal: invariant culture, round-trip ('R') format; NaN and infinities by name.</summary>
    internal static string FloatLiteral(float value)
    {
        if (float.IsNaN(value))
        {
            return "float.NaN";
        }
        if (float.IsInfinity(value))
        {
            return value > 0 ? "float.PositiveInfinity" : "float.NegativeInfinity";
        }
        return value.ToString("R", CultureInfo.InvariantCulture) + "f";
    }

    /// <summary><c>new int[] { ... }</c>: the initializer of a shape or ints: field.</summary>
    private static string IntsExpression(EquatableArray<int> values)
        => "new int[] { " + string.Join(", ", values.Select(static v => Inv(v))) + " }";

    internal static string Inv(int value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string Inv(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The C# keyword for a plan dtype (docs/edgeplan.md).</summary>
    internal static string CSharpType(DataType type) => type switch
    {
        DataType.F32 => "float",
        DataType.F64 => "double",
        DataType.I64 => "long",
        DataType.I32 => "int",
        DataType.I16 => "short",
        DataType.I8 => "sbyte",
        DataType.U8 => "byte",
        DataType.U16 => "ushort",
        DataType.Bool => "bool",
        DataType.F16 => "global::System.Half",
        // .NET has no bfloat16 type: the kernels library defines one (the upper 16 bits of a float32).
        DataType.BF16 => "global::EdgeCompile.Kernels.BFloat16",
        DataType.U32 => "uint",
        DataType.U64 => "ulong",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    internal static int SizeOf(DataType type) => type switch
    {
        DataType.F64 or DataType.I64 or DataType.U64 => 8,
        DataType.F32 or DataType.I32 or DataType.U32 => 4,
        DataType.I16 or DataType.U16 or DataType.F16 or DataType.BF16 => 2,
        _ => 1,
    };

    /// <summary>The distinct ints: lists of a plan, in order of first use, named <c>s_shape0</c>, <c>s_shape1</c>, ...</summary>
    private sealed class IntsTable
    {
        private readonly List<EquatableArray<int>> _lists = new();
        private readonly Dictionary<EquatableArray<int>, int> _index = new();

        public int Count => _lists.Count;

        public EquatableArray<int> this[int i] => _lists[i];

        public static IntsTable Build(PlanSpec plan)
        {
            var table = new IntsTable();
            foreach (IntsArgument ints in plan.Calls.SelectMany(static c => c.Arguments).OfType<IntsArgument>())
            {
                if (ints.Values.Count > 0 && !table._index.ContainsKey(ints.Values))
                {
                    table._index.Add(ints.Values, table._lists.Count);
                    table._lists.Add(ints.Values);
                }
            }
            return table;
        }

        public string Name(int i) => "s_shape" + Inv(i);

        public string NameOf(EquatableArray<int> values) => Name(_index[values]);
    }
}
