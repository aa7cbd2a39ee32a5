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
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except ImportError as exc:
            if module.startswith("engines") and getattr(sys, "frozen", False):
                print(f"weft: this build of Weft has no engine ({exc}); it was built with "
                      "packaging/build.sh --gui-only. Renders need the full build.", file=sys.stderr)
                sys.exit(1)
            raise
        return
    from app.cli import main as cli_main
    sys.exit(cli_main())


if __name__ == "__main__":
    main()
