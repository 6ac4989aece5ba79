using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EdgeCompile.Kernels;

/// <summary>
/// The threads of a multi-threaded <c>Run</c> (model metadata <c>Threads</c>, docs/benchmarks.md "Multi-threaded Run"):
/// one process-wide set of dedicated background threads that split one kernel call into parts. Allocation-free per call:
/// a call publishes a function pointer and a pointer to a state struct on the caller's stack (whose spans the caller keeps
/// pinned until every part is done), wakes the workers it needs, claims and runs parts itself like a worker (so a part no
/// worker has claimed yet never waits for one), and waits for the parts the workers claimed.
/// One call at a time: when another thread holds the pool (another model instance running a parallel call, or a nested
/// call), the parts run serially on the calling thread instead of waiting. Workers spin briefly after a part (the next
/// layer follows within microseconds), then sleep on a semaphore. The threads are created on the first parallel call
/// (that call allocates them; no later call allocates) and are never more than <c>Environment.ProcessorCount - 1</c>.
/// </summary>
internal static unsafe class WorkerPool
{
    private sealed class Worker
    {
        public readonly SemaphoreSlim Wake = new(0);
        public int Sleeping;
    }

    private static readonly object s_grow = new();
    private static Worker[] s_workers = [];
    private static int s_busy;

    // The published call. Written by the caller holding s_busy before s_generation is bumped (release); read by workers
    // after they see the new generation or claim a part (acquire).
    private static delegate*<void*, int, int, void> s_job;
    private static void* s_state;
    private static int s_parts;
    // No call published: a worker that claims a part late (after the last call's parts were all taken) gets an index far
    // past any part count. A call resets it to 0 last, after the job, state and count it guards.
    private const int Closed = int.MaxValue / 2;
    private static int s_nextPart = Closed;
    private static int s_pending;
    private static int s_failed;
    private static int s_generation;

    /// <summary>
    /// How long a worker spins for the next call before it sleeps on its semaphore (waking it costs the caller a few
    /// microseconds more). Consecutive large layers are separated by the small serial layers between them, tens of
    /// microseconds; between two Runs the worker sleeps and burns nothing.
    /// </summary>
    internal static int SpinMicroseconds = 50;

    private static long s_workerParts;
    /// <summary>Parts the worker threads have run since the process started (tests and diagnostics: the workers really work).</summary>
    internal static long WorkerParts => Interlocked.Read(ref s_workerParts);

    [ThreadStatic] private static int t_parallelCalls;
    [ThreadStatic] private static int t_serialCalls;

    /// <summary>Calls on this thread whose parts ran on the pool (tests assert the path taken).</summary>
    internal static int ParallelCallsOnThisThread => t_parallelCalls;
    /// <summary>Calls on this thread that ran their parts serially: the pool was busy, or one part was asked for.</summary>
    internal static int SerialCallsOnThisThread => t_serialCalls;

    /// <summary>How many parts a call asking for <paramref name="threads"/> may use here: at most the processor count.</summary>
    public static int Parts(int threads) => Math.Max(1, Math.Min(threads, Environment.ProcessorCount));

    /// <summary>
    /// Runs <c>job(state, p, parts)</c> for p = 0..parts-1, in parallel when the pool is free, and returns when all are done.
    /// The job must not throw for valid arguments (callers validate first); a part that throws anyway fails the call
    /// with <see cref="InvalidOperationException"/> after all parts have finished.
    /// </summary>
    public static void Run(delegate*<void*, int, int, void> job, void* state, int parts)
    {
        if (parts <= 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            t_serialCalls++;
            for (int p = 0; p < parts; p++) job(state, p, parts);
            return;
        }
        try
        {
            if (s_workers.Length < parts - 1) Grow(parts - 1);
            t_parallelCalls++;
            s_job = job;
            s_state = state;
            s_parts = parts;
            s_pending = parts;
            s_failed = 0;
            Volatile.Write(ref s_nextPart, 0);
            Volatile.Write(ref s_generation, s_generation + 1);
            Worker[] workers = s_workers;
            for (int i = 0; i < parts - 1 && i < workers.Length; i++)
                if (Interlocked.Exchange(ref workers[i].Sleeping, 0) == 1) workers[i].Wake.Release();
            RunParts(worker: false);
            var spin = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0) spin.SpinOnce(-1);
            if (s_failed != 0) throw new InvalidOperationException("WorkerPool: a part of a parallel kernel call failed.");
        }
        finally
        {
            Volatile.Write(ref s_nextPart, Closed);
            s_job = null;
            s_state = null;
            Volatile.Write(ref s_busy, 0);
        }
    }

    // Claims and runs parts until none is left (the caller and the workers alike).
    private static void RunParts(bool worker)
    {
        int p;
        while ((p = Interlocked.Increment(ref s_nextPart) - 1) < Volatile.Read(ref s_parts))
        {
            try { s_job(s_state, p, s_parts); }
            catch { Volatile.Write(ref s_failed, 1); }
            if (worker) Interlocked.Increment(ref s_workerParts);
            Interlocked.Decrement(ref s_pending);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Grow(int count)
    {
        lock (s_grow)
        {
            count = Math.Min(count, Environment.ProcessorCount - 1);
            if (s_workers.Length >= count) return;
            var workers = new Worker[count];
            Array.Copy(s_workers, workers, s_workers.Length);
            for (int i = s_workers.Length; i < count; i++)
            {
                var w = workers[i] = new Worker();
                var thread = new Thread(() => WorkerLoop(w)) { IsBackground = true, Name = "EdgeCompile worker " + (i + 1) };
                thread.Start();
            }
            s_workers = workers;
        }
    }

    private static void WorkerLoop(Worker w)
    {
        int seen = Volatile.Read(ref s_generation);
        long spinStart = Stopwatch.GetTimestamp();
        while (true)
        {
            int g = Volatile.Read(ref s_generation);
            if (g != seen)
            {
                seen = g;
                RunParts(worker: true);
                spinStart = Stopwatch.GetTimestamp();
                continue;
            }
            if (Stopwatch.GetTimestamp() - spinStart < SpinMicroseconds * Stopwatch.Frequency / 1_000_000)
            {
                Thread.SpinWait(8);
                continue;
            }
            // Announced with a full fence before re-checking (a plain store could pass the load below), so a call published
            // in between either is seen here or finds Sleeping set and releases the semaphore.
            Interlocked.Exchange(ref w.Sleeping, 1);
            if (Volatile.Read(ref s_generation) != seen) { Interlocked.Exchange(ref w.Sleeping, 0); continue; }
            w.Wake.Wait();
            spinStart = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of <paramref name="count"/> items split in whole units of
    /// <paramref name="unit"/> items: [start, end), as even as the units allow. A last short unit (count not a multiple of
    /// unit) joins the last part, so no part but a whole call smaller than a unit has fewer than unit items; parts past
    /// the number of units are empty.
    /// </summary>
    public static (int Start, int End) Range(int count, int unit, int part, int parts)
    {
        int units = Math.Max(1, count / unit);
        int a = (int)((long)units * part / parts), b = (int)((long)units * (part + 1) / parts);
        return (Math.Min(count, a * unit), part == parts - 1 ? count : Math.Min(count, b * unit));
    }

    /// <summary>Parts worth making of <paramref name="count"/> items in units of <paramref name="unit"/>: at most one per whole unit.</summary>
    public static int PartsFor(int threads, int count, int unit) => Math.Min(Parts(threads), Math.Max(1, count / unit));
}
