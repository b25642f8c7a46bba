namespace NestedApic.Checking.Examples;

/// <summary>
/// Dining philosophers: N philosophers round a table, fork i between philosopher i and i+1.
/// Philosopher i loops: pc 0: take the first fork when free · pc 1: take the second when free ·
/// pc 2: (eating) put the first back · pc 3: put the second back. Everyone takes the left fork
/// first in the seeded bug, which deadlocks; in the correct variant the last philosopher takes
/// the right one first, which breaks the cycle. One step per line, as bench/spin/philosophers.pml.
/// </summary>
public readonly struct Philosophers(int n, bool bug = false) : IModel<Philosophers.State, byte>
{
    public const int MaxPhilosophers = 16;
    public bool Bug { get; } = bug;
    public int N { get; } = n is >= 2 and <= MaxPhilosophers ? n : throw new ArgumentOutOfRangeException(nameof(n));

    public struct State
    {
        public Bytes16 Pc, Fork;
    }

    int First(int i) => Bug || i < N - 1 ? i : (i + 1) % N;
    int Second(int i) => Bug || i < N - 1 ? (i + 1) % N : i;

    public State Initial() => default;
    public int MaxSteps => N;
    public IReadOnlyList<string> Invariants => ["neighbours-not-both-eating"];

    public int Enabled(in State s, Span<byte> steps)
    {
        int count = 0;
        for (int i = 0; i < N; i++)
        {
            bool can = s.Pc[i] switch
            {
                0 => s.Fork[First(i)] == 0,
                1 => s.Fork[Second(i)] == 0,
                _ => true,
            };
            if (can) steps[count++] = (byte)i;
        }
        return count;
    }

    public void Apply(ref State s, in byte step)
    {
        int i = step;
        switch (s.Pc[i])
        {
            case 0: s.Fork[First(i)] = 1; s.Pc[i] = 1; break;
            case 1: s.Fork[Second(i)] = 1; s.Pc[i] = 2; break;
            case 2: s.Fork[First(i)] = 0; s.Pc[i] = 3; break;
            default: s.Fork[Second(i)] = 0; s.Pc[i] = 0; break;
        }
    }

    public int Violated(in State s)
    {
        for (int i = 0; i < N; i++)
            if (s.Pc[i] == 2 && s.Pc[(i + 1) % N] == 2) return 0;
        return -1;
    }

    public bool IsFinal(in State s) => false;

    public string Label(in byte step) => $"philosopher {step}";

    public string Explain(int invariant, in State s)
    {
        for (int i = 0; i < N; i++)
            if (s.Pc[i] == 2 && s.Pc[(i + 1) % N] == 2) return $"philosophers {i} and {(i + 1) % N} both eat";
        return "";
    }

    public IReadOnlyList<string> Diff(in State before, in State after)
    {
        var d = new List<string>();
        Fields.Diff(d, "pc", before.Pc, after.Pc, N);
        Fields.Diff(d, "fork", before.Fork, after.Fork, N);
        return d;
    }
}
