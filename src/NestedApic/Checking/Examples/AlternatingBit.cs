namespace NestedApic.Checking.Examples;

/// <summary>
/// The alternating-bit protocol over two lossy bounded FIFO channels of capacity C. Messages carry
/// a bit and a datum (the sequence number mod M), packed as bit | datum &lt;&lt; 1. The sender may
/// (re)send its current message whenever the data channel has room; on an ack equal to its bit it
/// flips the bit and moves to the next datum. The receiver accepts a message whose bit is the one
/// it expects, checks the datum is the next in order, and flips; it may (re)send the ack of the last
/// bit it accepted whenever the ack channel has room. Either channel may lose its head message.
/// Steps, in this order: send, receive ack, receive data, send ack, lose data, lose ack; each one
/// atomic, as in bench/spin/abp.pml. The seeded bug: the receiver ignores the bit and so accepts
/// retransmitted duplicates.
/// </summary>
public readonly struct AlternatingBit(int capacity, int modulus = 2, bool bug = false) : IModel<AlternatingBit.State, byte>
{
    public const int MaxCapacity = 32;
    public int C { get; } = capacity is >= 1 and <= MaxCapacity ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));
    public int M { get; } = modulus is >= 2 and <= 127 ? modulus : throw new ArgumentOutOfRangeException(nameof(modulus));
    public bool Bug { get; } = bug;

    public enum Step : byte { Send, ReceiveAck, ReceiveData, SendAck, LoseData, LoseAck }

    public struct State
    {
        public Bytes32 Data, Ack;
        public byte DataLen, AckLen;
        public byte SBit, SNext, RBit, RNext;
        /// <summary>1 once a datum was delivered out of order.</summary>
        public byte Err;
    }

    public State Initial() => default;
    public int MaxSteps => 6;
    public IReadOnlyList<string> Invariants => ["in-order-delivery"];

    public int Enabled(in State s, Span<byte> steps)
    {
        int n = 0;
        if (s.DataLen < C) steps[n++] = (byte)Step.Send;
        if (s.AckLen > 0) steps[n++] = (byte)Step.ReceiveAck;
        if (s.DataLen > 0) steps[n++] = (byte)Step.ReceiveData;
        if (s.AckLen < C) steps[n++] = (byte)Step.SendAck;
        if (s.DataLen > 0) steps[n++] = (byte)Step.LoseData;
        if (s.AckLen > 0) steps[n++] = (byte)Step.LoseAck;
        return n;
    }

    public void Apply(ref State s, in byte step)
    {
        switch ((Step)step)
        {
            case Step.Send:
                s.Data[s.DataLen++] = (byte)(s.SBit | s.SNext << 1);
                break;
            case Step.ReceiveAck:
                if (Pop(ref s.Ack, ref s.AckLen) == s.SBit) { s.SBit ^= 1; s.SNext = (byte)((s.SNext + 1) % M); }
                break;
            case Step.ReceiveData:
                int m = Pop(ref s.Data, ref s.DataLen);
                if (Bug || (m & 1) == s.RBit)
                {
                    if (m >> 1 != s.RNext) s.Err = 1;
                    s.RNext = (byte)((s.RNext + 1) % M);
                    s.RBit ^= 1;
                }
                break;
            case Step.SendAck:
                s.Ack[s.AckLen++] = (byte)(s.RBit ^ 1);
                break;
            case Step.LoseData:
                Pop(ref s.Data, ref s.DataLen);
                break;
            default:
                Pop(ref s.Ack, ref s.AckLen);
                break;
        }
    }

    /// <summary>Takes the head and shifts the rest down, zeroing the freed slot (as SPIN does),
    /// so a queue's bytes are canonical.</summary>
    static byte Pop(ref Bytes32 q, ref byte len)
    {
        byte head = q[0];
        for (int i = 1; i < len; i++) q[i - 1] = q[i];
        q[--len] = 0;
        return head;
    }

    public int Violated(in State s) => s.Err != 0 ? 0 : -1;
    public bool IsFinal(in State s) => false;
    public string Label(in byte step) => ((Step)step).ToString();

    public string Explain(int invariant, in State s) =>
        $"the receiver accepted a datum other than the next one; it now expects {s.RNext}";

    public IReadOnlyList<string> Diff(in State before, in State after)
    {
        var d = new List<string>();
        if (before.DataLen != after.DataLen || !((ReadOnlySpan<byte>)before.Data).SequenceEqual(after.Data))
            d.Add($"data: {Show(before.Data, before.DataLen)} → {Show(after.Data, after.DataLen)}");
        if (before.AckLen != after.AckLen || !((ReadOnlySpan<byte>)before.Ack).SequenceEqual(after.Ack))
            d.Add($"ack: {Show(before.Ack, before.AckLen)} → {Show(after.Ack, after.AckLen)}");
        Fields.Diff(d, "sbit", before.SBit, after.SBit);
        Fields.Diff(d, "snext", before.SNext, after.SNext);
        Fields.Diff(d, "rbit", before.RBit, after.RBit);
        Fields.Diff(d, "rnext", before.RNext, after.RNext);
        Fields.Diff(d, "err", before.Err, after.Err);
        return d;
    }

    static string Show(ReadOnlySpan<byte> q, int len) => "[" + string.Join(" ", q[..len].ToArray()) + "]";
}
