namespace NestedApic.Hardware.Svm;

/// <summary>
/// One 64-bit entry of the AVIC physical APIC ID table, indexed by guest physical APIC ID (APM
/// §15.29.3.1, figure 15-17): 63 valid, 62 IsRunning, 61:52 reserved, 51:12 backing-page address,
/// 11:0 host physical APIC ID (meaningful only while IsRunning).
/// </summary>
public struct AvicPhysicalIdEntry : IEquatable<AvicPhysicalIdEntry>
{
    public const int ValidBit = 63;
    public const int IsRunningBit = 62;
    public const ulong BackingPageMask = 0x000F_FFFF_FFFF_F000UL;
    public const ulong HostApicIdMask = 0xFFFUL;
    /// <summary>Bits 61:52, which software must write as zero.</summary>
    public const ulong ReservedMask = 0x3FF0_0000_0000_0000UL;

    public ulong Value;

    public AvicPhysicalIdEntry(ulong value) => Value = value;

    public AvicPhysicalIdEntry(bool valid, bool isRunning, ulong backingPage, ushort hostApicId)
    {
        Value = 0;
        Valid = valid; IsRunning = isRunning; BackingPage = backingPage; HostApicId = hostApicId;
    }

    public bool Valid { readonly get => Get(ValidBit); set => Put(ValidBit, value); }
    public bool IsRunning { readonly get => Get(IsRunningBit); set => Put(IsRunningBit, value); }

    /// <summary>Host physical address of the backing page (4-KiB aligned; bits 11:0 are dropped).</summary>
    public ulong BackingPage
    {
        readonly get => Value & BackingPageMask;
        set => Value = Value & ~BackingPageMask | value & BackingPageMask;
    }

    /// <summary>The host APIC ID a doorbell for this vCPU goes to.</summary>
    public ushort HostApicId
    {
        readonly get => (ushort)(Value & HostApicIdMask);
        set => Value = Value & ~HostApicIdMask | value & HostApicIdMask;
    }

    private readonly bool Get(int bit) => (Value >> bit & 1) != 0;
    private void Put(int bit, bool v) { if (v) Value |= 1UL << bit; else Value &= ~(1UL << bit); }

    public readonly bool Equals(AvicPhysicalIdEntry other) => Value == other.Value;
    public override readonly bool Equals(object? obj) => obj is AvicPhysicalIdEntry o && Equals(o);
    public override readonly int GetHashCode() => Value.GetHashCode();
    public override readonly string ToString() =>
        $"V={(Valid ? 1 : 0)} IR={(IsRunning ? 1 : 0)} page={BackingPage:x} host={HostApicId:x}";
}

/// <summary>
/// One 32-bit entry of the AVIC logical APIC ID table (APM §15.29.3.2, figure 15-19): 31 valid,
/// 30:8 reserved, 7:0 guest physical APIC ID. xAVIC only; x2AVIC derives logical IDs itself.
/// </summary>
public struct AvicLogicalIdEntry : IEquatable<AvicLogicalIdEntry>
{
    public const int ValidBit = 31;
    public const uint GuestPhysicalApicIdMask = 0xFFu;

    public uint Value;

    public AvicLogicalIdEntry(uint value) => Value = value;

    public AvicLogicalIdEntry(bool valid, byte guestPhysicalApicId) =>
        Value = (valid ? 1u << ValidBit : 0) | guestPhysicalApicId;

    public bool Valid
    {
        readonly get => (Value >> ValidBit & 1) != 0;
        set => Value = value ? Value | 1u << ValidBit : Value & ~(1u << ValidBit);
    }

    public byte GuestPhysicalApicId
    {
        readonly get => (byte)(Value & GuestPhysicalApicIdMask);
        set => Value = Value & ~GuestPhysicalApicIdMask | value;
    }

    public readonly bool Equals(AvicLogicalIdEntry other) => Value == other.Value;
    public override readonly bool Equals(object? obj) => obj is AvicLogicalIdEntry o && Equals(o);
    public override readonly int GetHashCode() => (int)Value;
    public override readonly string ToString() => $"V={(Valid ? 1 : 0)} id={GuestPhysicalApicId}";
}

/// <summary>
/// Where a logical destination bit lands in the logical table (APM §15.29.3.2, figures 15-20 and
/// 15-21). Flat mode (DFR model 1111b): the eight bits of the 8-bit logical ID index entries 0-7.
/// Cluster mode (DFR model 0000b): logical ID bits 7:4 name the cluster (15 is broadcast), bits 3:0
/// a one-hot member; entry = 4 * cluster + member bit, i.e. byte offset 16 * cluster + 4 * bit.
/// </summary>
public static class AvicLogicalIndex
{
    /// <summary>DFR bits 31:28 for the flat model.</summary>
    public const uint DfrFlat = 0xF;
    /// <summary>DFR bits 31:28 for the cluster model.</summary>
    public const uint DfrCluster = 0x0;
    /// <summary>Entries a cluster-mode table can use: clusters 0-14, four members each.</summary>
    public const int ClusterEntries = 15 * 4;

    /// <summary>Flat model: entry for destination bit <paramref name="bit"/> (0-7).</summary>
    public static int Flat(int bit) => (uint)bit < 8 ? bit : throw new ArgumentOutOfRangeException(nameof(bit));

    /// <summary>Cluster model: entry for <paramref name="cluster"/> (0-14) and member bit <paramref name="memberBit"/> (0-3).</summary>
    public static int Cluster(int cluster, int memberBit) =>
        (uint)cluster < 15 && (uint)memberBit < 4 ? cluster << 2 | memberBit
            : throw new ArgumentOutOfRangeException(cluster >= 15 ? nameof(cluster) : nameof(memberBit));
}
