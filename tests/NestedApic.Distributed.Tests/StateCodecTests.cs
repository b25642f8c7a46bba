using NestedApic.Checking;
using NestedApic.Checking.Examples;
using NestedApic.Cli;
using NestedApic.Hypervisor;

namespace NestedApic.Distributed.Tests;

/// <summary>The wire forms decode to the state they encode, and say how many bytes they took, so
/// records concatenate.</summary>
public class StateCodecTests
{
    static void RoundTrips<S, C>(C codec, IEnumerable<S> states) where S : unmanaged where C : IStateCodec<S>
    {
        var buffer = new byte[codec.MaxEncodedLength * 3];
        foreach (var s in states)
        {
            // Three in a row, as in a batch.
            int at = 0;
            for (int i = 0; i < 3; i++) at += codec.Encode(s, buffer.AsSpan(at));
            var span = (ReadOnlySpan<byte>)buffer.AsSpan(0, at);
            for (int i = 0; i < 3; i++)
            {
                span = span[codec.Decode(span, out var back)..];
                Assert.True(StateHash.Equal(s, back));
            }
            Assert.True(span.IsEmpty);
        }
    }

    static List<S> Reachable<M, S, T>(M model, int max) where M : struct, IModel<S, T> where S : unmanaged where T : unmanaged
    {
        var seen = new List<S> { model.Initial() };
        var steps = new T[model.MaxSteps];
        for (int i = 0; i < seen.Count && seen.Count < max; i++)
            for (int k = 0, n = model.Enabled(seen[i], steps); k < n; k++)
            {
                var s = seen[i];
                model.Apply(ref s, steps[k]);
                if (!seen.Any(x => StateHash.Equal(x, s))) seen.Add(s);
            }
        return seen;
    }

    [Fact]
    public void Kvm_states_round_trip_in_the_layout_form_and_shrink()
    {
        var u = BuiltinUniverses.Load("seed");
        string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "universes", "seed.toml"));
        var model = ClusterModels.UniverseModel(ClusterModels.ForUniverse(text, u.File, null, 2));
        var states = Reachable<IKvmModelBox, KvmState, KvmStep>(new IKvmModelBox(model), 200);
        var codec = new LayoutStateCodec<KvmState>(model.Layout);
        RoundTrips<KvmState, LayoutStateCodec<KvmState>>(codec, states);
        RoundTrips<KvmState, RawStateCodec<KvmState>>(default, states.Take(20));
        var buffer = new byte[codec.MaxEncodedLength];
        Assert.True(states.Average(s => codec.Encode(s, buffer)) < System.Runtime.CompilerServices.Unsafe.SizeOf<KvmState>() / 4.0);
    }

    [Fact]
    public void Classic_states_round_trip()
    {
        var model = new Peterson(3);
        RoundTrips<Peterson.State, LayoutStateCodec<Peterson.State>>(new(((IModel<Peterson.State, byte>)model).Layout),
            Reachable<Peterson, Peterson.State, byte>(model, 500));
    }

    /// <summary>The KVM model behind its interface, as a struct model for the helper above.</summary>
    readonly struct IKvmModelBox(IKvmModel m) : IModel<KvmState, KvmStep>
    {
        public KvmState Initial() => m.Initial();
        public int MaxSteps => m.MaxSteps;
        public int Enabled(in KvmState s, Span<KvmStep> steps) => m.Enabled(s, steps);
        public void Apply(ref KvmState s, in KvmStep step) => m.Apply(ref s, step);
        public IReadOnlyList<string> Invariants => m.Invariants;
        public int Violated(in KvmState s) => m.Violated(s);
        public bool IsFinal(in KvmState s) => m.IsFinal(s);
        public string Label(in KvmStep step) => m.Label(step);
        public string Explain(int invariant, in KvmState s) => m.Explain(invariant, s);
        public IReadOnlyList<string> Diff(in KvmState a, in KvmState b) => m.Diff(a, b);
    }
}
