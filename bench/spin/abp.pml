/* The alternating-bit protocol over lossy bounded FIFO channels of capacity C, data mod M: the
   same model as src/NestedApic/Checking/Examples/AlternatingBit.cs, one d_step per C# step.
   A message is bit | datum << 1. spin -DC=4 [-DM=2] [-DBUG] -a */
#ifndef C
#define C 2
#endif
#ifndef M
#define M 2
#endif

chan dch = [C] of { byte };
chan ach = [C] of { byte };
byte sbit, snext, rbit, rnext;
byte m; /* scratch for one d_step, reset to 0 before it ends so states stay canonical */

#ifdef BUG
#define ACCEPT true
#else
#define ACCEPT ((m & 1) == rbit)
#endif

active proctype sender()
{
  do
  :: d_step { len(dch) < C -> dch!(sbit | (snext << 1)) }
  :: d_step { len(ach) > 0 -> ach?m;
       if
       :: m == sbit -> sbit = 1 - sbit; snext = (snext + 1) % M
       :: else -> skip
       fi;
       m = 0 }
  od
}

active proctype receiver()
{
  do
  :: d_step { len(dch) > 0 -> dch?m;
       if
       :: ACCEPT -> assert((m >> 1) == rnext); rnext = (rnext + 1) % M; rbit = 1 - rbit
       :: else -> skip
       fi;
       m = 0 }
  :: d_step { len(ach) < C -> ach!(1 - rbit) }
  od
}

/* the channels lose their head message */
active proctype lossy()
{
  do
  :: d_step { len(dch) > 0 -> dch?_ }
  :: d_step { len(ach) > 0 -> ach?_ }
  od
}
