import multiprocessing
import sys

from app.commands import main

if __name__ == "__main__":
    # The frozen program starts its helper processes (the import's second reader, spawned) by
    # running itself: freeze_support hands such a start to multiprocessing. Nothing otherwise.
    multiprocessing.freeze_support()
    sys.exit(main())
