"""The desktop app's single executable: the studio, the command line, and the engine.

The engine client starts its worker as ``<python> -m engines.worker ...``. In
the frozen app ``sys.executable`` is this program, so ``-m MODULE`` runs that
module as ``python -m`` would; anything else is the ``weft`` command line
(with no arguments: the studio).
"""

import multiprocessing
import runpy
import sys


def main() -> None:
    multiprocessing.freeze_support()
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [sys.argv[0]] + sys.argv[3:]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    from app.cli import main as cli_main
    sys.exit(cli_main())


if __name__ == "__main__":
    main()
