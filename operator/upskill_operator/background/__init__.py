"""Work that runs beside the kopf handlers, free of kopf: the stuck-object sweeper, migration runs, probe rounds.

The handlers (daemons, start-up hooks) drive these classes; nothing here imports kopf.
"""
