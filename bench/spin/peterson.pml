/* Peterson's mutual exclusion for N processes (the filter lock; N = 2 is the classic algorithm),
   the same model as src/NestedApic/Checking/Examples/Peterson.cs. Each C# step is one d_step on
   explicit pc variables, so SPIN's states are exactly the C# states. spin -DN=3 [-DBUG] -a */
#ifndef N
#define N 2
#endif

byte pc[N];
byte level[N];
byte victim[N];

/* every other process is below my level */
#define LOW(k) (k == _pid || level[k] < level[_pid])
#define IN(k) (pc[k] == 3 -> 1 : 0)
#if N == 2
#define ALLLOW (LOW(0) && LOW(1))
#define NCRIT (IN(0) + IN(1))
#elif N == 3
#define ALLLOW (LOW(0) && LOW(1) && LOW(2))
#define NCRIT (IN(0) + IN(1) + IN(2))
#elif N == 4
#define ALLLOW (LOW(0) && LOW(1) && LOW(2) && LOW(3))
#define NCRIT (IN(0) + IN(1) + IN(2) + IN(3))
#elif N == 5
#define ALLLOW (LOW(0) && LOW(1) && LOW(2) && LOW(3) && LOW(4))
#define NCRIT (IN(0) + IN(1) + IN(2) + IN(3) + IN(4))
#elif N == 6
#define ALLLOW (LOW(0) && LOW(1) && LOW(2) && LOW(3) && LOW(4) && LOW(5))
#define NCRIT (IN(0) + IN(1) + IN(2) + IN(3) + IN(4) + IN(5))
#else
#error "N must be 2..6"
#endif

active [N] proctype P()
{
  do
#ifdef BUG
  /* seeded bug: victim (turn) written before level (flag) */
  :: d_step { pc[_pid] == 0 -> victim[level[_pid] + 1] = _pid; pc[_pid] = 1 }
  :: d_step { pc[_pid] == 1 -> level[_pid]++; pc[_pid] = 2 }
#else
  :: d_step { pc[_pid] == 0 -> level[_pid]++; pc[_pid] = 1 }
  :: d_step { pc[_pid] == 1 -> victim[level[_pid]] = _pid; pc[_pid] = 2 }
#endif
  :: d_step { pc[_pid] == 2 && (victim[level[_pid]] != _pid || ALLLOW) ->
       if
       :: level[_pid] == N - 1 -> pc[_pid] = 3
       :: else -> pc[_pid] = 0
       fi;
       assert(NCRIT <= 1) }
  :: d_step { pc[_pid] == 3 -> level[_pid] = 0; pc[_pid] = 0 }
  od
}
