namespace NestedApic; internal static class Placeholder {}
