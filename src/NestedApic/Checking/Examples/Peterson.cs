namespace NestedApic.Checking.Examples;

/// <summary>
/// Peterson's mutual exclusion generalised to N processes (the filter lock); N = 2 is the classic
/// two-process algorithm with level = flag and victim[1] = turn. Process i loops:
/// pc 0: level[i]++ (enter the next level) · pc 1: victim[level[i]] = i ·
/// pc 2: await (every other level[k] &lt; level[i]) or victim[level[i]] ≠ i, then to pc 3 at the top
/// level, else back to pc 0 · pc 3: critical section; leave with level[i] = 0.
/// One step per line, the same as bench/spin/peterson.pml.
/// </summary>
public readonly struct Peterson(int n, bool bug = false) : IModel<Peterson.State, byte>
{
    public const int MaxProcesses = 8;
    /// <summary>The seeded bug: write victim before raising level (turn before flag), which lets two in.</summary>
    public bool Bug { get; } = bug;
    public int N { get; } = n is >= 2 and <= MaxProcesses ? n : throw new ArgumentOutOfRangeException(nameof(n));

    public struct State
    {
        public Bytes8 Pc, Level, Victim;
    }

    public State Initial() => default;
    public int MaxSteps => N;
    public IReadOnlyList<string> Invariants => ["mutual-exclusion"];

    /// <summary>Each process has exactly one next statement; a step is the process that runs it.</summary>
    public int Enabled(in State s, Span<byte> steps)
    {
        int count = 0;
        for (int i = 0; i < N; i++)
            if (s.Pc[i] != 2 || MayPass(s, i)) steps[count++] = (byte)i;
        return count;
    }

    bool MayPass(in State s, int i)
    {
        int l = s.Level[i];
        if (s.Victim[l] != i) return true;
        for (int k = 0; k < N; k++)
            if (k != i && s.Level[k] >= l) return false;
        return true;
    }

    public void Apply(ref State s, in byte step)
    {
        int i = step;
        switch (s.Pc[i])
        {
            case 0:
                if (Bug) s.Victim[s.Level[i] + 1] = (byte)i; else s.Level[i]++;
                s.Pc[i] = 1;
                break;
            case 1:
                if (Bug) s.Level[i]++; else s.Victim[s.Level[i]] = (byte)i;
                s.Pc[i] = 2;
                break;
            case 2:
                s.Pc[i] = (byte)(s.Level[i] == N - 1 ? 3 : 0);
                break;
            default:
                s.Level[i] = 0;
                s.Pc[i] = 0;
                break;
        }
    }

    public int Violated(in State s)
    {
        int inside = 0;
        for (int i = 0; i < N; i++)
            if (s.Pc[i] == 3) inside++;
        return inside > 1 ? 0 : -1;
    }

    public bool IsFinal(in State s) => false;

    public string Label(in byte step) => $"P{step}";

    public string Explain(int invariant, in State s)
    {
        var inside = new List<int>();
        for (int i = 0; i < N; i++)
            if (s.Pc[i] == 3) inside.Add(i);
        return $"processes {string.Join(", ", inside)} are all in the critical section";
    }

    public IReadOnlyList<string> Diff(in State before, in State after)
    {
        var d = new List<string>();
        Fields.Diff(d, "pc", before.Pc, after.Pc, N);
        Fields.Diff(d, "level", before.Level, after.Level, N);
        Fields.Diff(d, "victim", before.Victim, after.Victim, N);
        return d;
    }
}
