using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class DataTests
{
    [Fact]
    public void StridedCopyMatchesScalarReference()
    {
        var r = new Random(41);
        for (int t = 0; t < 300; t++)
        {
            int rank = r.Next(0, 6);
            var src = new int[rank];
            for (int d = 0; d < rank; d++) src[d] = r.Next(1, 6);
            int[] srcStrides = RowMajor(src, out int total);
            var x = new int[total];
            for (int i = 0; i < total; i++) x[i] = i;
            // A random view: permute (Transpose), step with a sign (Slice), or broadcast (Expand).
            var perm = Enumerable.Range(0, rank).OrderBy(_ => r.Next()).ToArray();
            var shape = new int[rank];
            var strides = new int[rank];
            int offset = 0;
            for (int d = 0; d < rank; d++)
            {
                int sd = perm[d];
                int kind = r.Next(4);
                if (kind == 0) { shape[d] = r.Next(1, 4); strides[d] = 0; continue; }          // expand
                int step = r.Next(1, 3) * (kind == 1 ? -1 : 1);
                int count = (src[sd] - 1) / Math.Abs(step) + 1;
                shape[d] = count;
                strides[d] = step * srcStrides[sd];
                if (step < 0) offset += (src[sd] - 1) * srcStrides[sd];
            }
            RowMajor(shape, out int yLen);
            var expected = new int[yLen];
            var y = new int[yLen];
            Data.StridedCopyScalar<int>(x, expected, offset, shape, strides);
            Data.StridedCopy<int>(x, y, offset, shape, strides);
            Assert.Equal(expected, y);
        }
    }

    private static int[] RowMajor(int[] shape, out int total)
    {
        var s = new int[shape.Length];
        total = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { s[d] = total; total *= shape[d]; }
        return s;
    }

    [Fact]
    public void HandComputedTransposeAndSlice()
    {
        // Transpose [2, 3] -> [3, 2].
        var y = new float[6];
        Data.StridedCopy<float>([1, 2, 3, 4, 5, 6], y, 0, [3, 2], [1, 3]);
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, y);
        // Reverse with step -2 from the end: [6, 4, 2].
        var s = new float[3];
        Data.StridedCopy<float>([1, 2, 3, 4, 5, 6], s, 5, [3], [-2]);
        Assert.Equal(new float[] { 6, 4, 2 }, s);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Data.StridedCopy<float>(new float[6], new float[3], 5, [3], [2])).ParamName);
    }

    [Fact]
    public void CopyBlocksBuildsAConcat()
    {
        var y = new long[10];
        Data.CopyBlocks<long>([1, 2, 3, 4], y, 2, 2, 5, 0);
        Data.CopyBlocks<long>([5, 6, 7, 8, 9, 10], y, 2, 3, 5, 2);
        Assert.Equal(new long[] { 1, 2, 5, 6, 7, 3, 4, 8, 9, 10 }, y);
        var r = new Random(42);
        for (int t = 0; t < 50; t++)
        {
            int outer = r.Next(0, 5), block = r.Next(0, 7), stride = block + r.Next(0, 5), off = r.Next(0, stride - block + 1);
            var x = Check.Data(r, outer * block);
            var e = new float[outer * stride];
            var a = new float[outer * stride];
            Data.CopyBlocksScalar<float>(x, e, outer, block, stride, off);
            Data.CopyBlocks<float>(x, a, outer, block, stride, off);
            Check.Exact(e, a, "CopyBlocks");
        }
        Assert.Equal("dstOffset", Assert.Throws<ArgumentException>(() => Data.CopyBlocks<float>(new float[4], new float[8], 2, 2, 4, 3)).ParamName);
    }

    [Fact]
    public void GatherWrapsNegativeIndicesAndRejectsOutOfRange()
    {
        // data [2, 3, 2]; gather axis 1 with [2, -3, -1].
        float[] data = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        var y = new float[12];
        Data.Gather<float>(data, [2, -3, -1], y, 2, 3, 2);
        Assert.Equal(new float[] { 4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11 }, y);
        var e = new float[12];
        Data.GatherScalar<float>(data, [2, -3, -1], e, 2, 3, 2);
        Check.Exact(e, y, "Gather");
        Assert.Throws<ArgumentOutOfRangeException>(() => Data.Gather<float>(data, [3], new float[4], 2, 3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Data.Gather<float>(data, [-4], new float[4], 2, 3, 2));
    }

    [Fact]
    public void PadConstantMatchesScalarReference()
    {
        var y = new float[12];
        Data.PadConstant([1, 2, 3, 4], y, [2, 2], [3, 4], [1, 1], -1);
        Assert.Equal(new float[] { -1, -1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1 }, y);
        var r = new Random(43);
        for (int t = 0; t < 200; t++)
        {
            int rank = r.Next(1, 5);
            var inShape = new int[rank];
            var outShape = new int[rank];
            var pads = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                inShape[d] = r.Next(1, 6);
                int begin = r.Next(-2, 3), end = r.Next(-2, 3);
                if (inShape[d] + begin + end < 1) { begin = 0; end = 0; }
                pads[d] = begin;
                outShape[d] = inShape[d] + begin + end;
            }
            RowMajor(inShape, out int xLen);
            RowMajor(outShape, out int yLen);
            var x = Check.Data(r, xLen);
            var e = new float[yLen];
            var a = new float[yLen];
            Data.PadConstantScalar(x, e, inShape, outShape, pads, 7f);
            Data.PadConstant(x, a, inShape, outShape, pads, 7f);
            Check.Exact(e, a, $"Pad in [{string.Join(",", inShape)}] out [{string.Join(",", outShape)}] pads [{string.Join(",", pads)}]");
        }
    }

    [Fact]
    public void CopyChecksLengths()
    {
        var y = new byte[3];
        Data.Copy<byte>([1, 2, 3], y);
        Assert.Equal(new byte[] { 1, 2, 3 }, y);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Data.Copy<byte>(new byte[3], new byte[4])).ParamName);
    }
}
