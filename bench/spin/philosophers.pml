/* Dining philosophers, the same model as src/NestedApic/Checking/Examples/Philosophers.cs: one
   d_step per C# step, on explicit pc variables. spin -DN=8 [-DBUG] -a */
#ifndef N
#define N 3
#endif

byte pc[N];
byte fork[N];

#define LEFT _pid
#define RIGHT ((_pid + 1) % N)
#ifdef BUG
#define FIRST LEFT
#define SECOND RIGHT
#else
/* the last philosopher takes the right fork first: no cycle of waiting */
#define FIRST (_pid < N - 1 -> LEFT : RIGHT)
#define SECOND (_pid < N - 1 -> RIGHT : LEFT)
#endif

active [N] proctype phil()
{
  do
  :: d_step { pc[_pid] == 0 && fork[FIRST] == 0 -> fork[FIRST] = 1; pc[_pid] = 1 }
  :: d_step { pc[_pid] == 1 && fork[SECOND] == 0 -> fork[SECOND] = 1; pc[_pid] = 2;
       assert(pc[RIGHT] != 2 && pc[(_pid + N - 1) % N] != 2) }
  :: d_step { pc[_pid] == 2 -> fork[FIRST] = 0; pc[_pid] = 3 }
  :: d_step { pc[_pid] == 3 -> fork[SECOND] = 0; pc[_pid] = 0 }
  od
}
