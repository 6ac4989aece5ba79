namespace EdgeCompile.Generators.Model;

/// <summary>One call argument token (the table in docs/edgeplan.md); the emitter maps each to one C# expression.</summary>
internal abstract record ArgumentSpec;

/// <summary><c>in:&lt;i&gt;</c>: the <c>ReadOnlySpan&lt;T&gt;</c> parameter of input i.</summary>
internal sealed record InputArgument(int Index) : ArgumentSpec;

/// <summary><c>out:&lt;i&gt;</c>: the <c>Span&lt;T&gt;</c> parameter of output i.</summary>
internal sealed record OutputArgument(int Index) : ArgumentSpec;

/// <summary><c>a:&lt;dtype&gt;:&lt;byteOffset&gt;:&lt;count&gt;</c>: a slice of the arena.</summary>
internal sealed record ArenaArgument(DataType Type, int ByteOffset, int Count) : ArgumentSpec;

/// <summary><c>w:&lt;dtype&gt;:&lt;byteOffset&gt;:&lt;count&gt;</c>: a slice of the embedded weights.</summary>
internal sealed record WeightArgument(DataType Type, int ByteOffset, int Count) : ArgumentSpec;

/// <summary><c>e:&lt;dtype&gt;</c>: an empty span.</summary>
internal sealed record EmptyArgument(DataType Type) : ArgumentSpec;

/// <summary><c>i:&lt;int&gt;</c>.</summary>
internal sealed record IntArgument(int Value) : ArgumentSpec;

/// <summary><c>l:&lt;long&gt;</c>.</summary>
internal sealed record LongArgument(long Value) : ArgumentSpec;

/// <summary><c>f:&lt;float&gt;</c>, including <c>NaN</c>, <c>Inf</c>, <c>-Inf</c>.</summary>
internal sealed record FloatArgument(float Value) : ArgumentSpec;

/// <summary><c>b:true</c>, <c>b:false</c>.</summary>
internal sealed record BoolArgument(bool Value) : ArgumentSpec;

/// <summary><c>enum:&lt;Type&gt;.&lt;Member&gt;</c>, a member of an enum in <c>EdgeCompile.Kernels</c>.</summary>
internal sealed record EnumArgument(string Type, string Member) : ArgumentSpec;

/// <summary><c>ints:&lt;i&gt;,&lt;i&gt;,...</c>: constant int data.</summary>
internal sealed record IntsArgument(EquatableArray<int> Values) : ArgumentSpec;
