"""Running a worker object on its own ``QThread``, and ending it safely: the one place that does it.

A worker is a ``QObject`` created without a parent with a ``run`` slot that does the long work and a
``done`` signal emitted last (in a ``finally``). The pattern follows Qt for Python's threading examples:
move the object to a plain ``QThread`` (never a subclass), start the thread, and on shutdown ask the
work to stop, ``quit()``, ``wait()``. Destroying a running ``QThread`` aborts the process, so callers
keep the thread referenced until ``join_thread`` returns or ``finished`` has fired.

What stopping means is the caller's business (a ``RunControl``, a cancel event): this module only
starts and joins threads.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread


def start_in_thread(worker: QObject, name: str, on_finished: Callable[[], None]) -> QThread:
    """Move ``worker`` to a new thread named ``name`` that runs ``worker.run`` and quits when the
    worker emits ``done``; ``on_finished`` runs in the caller's thread once the thread has ended.

    Connect the worker's other signals before calling this: the thread starts at once.
    """
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)      # fails for an object with a parent
    thread.started.connect(worker.run)
    # Direct: quit() is thread-safe, and a queued call would wait for the GUI thread, which may be
    # blocked in join_thread()'s wait().
    worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(on_finished)
    thread.start()
    return thread


def join_thread(thread: QThread, receiver: QObject) -> None:
    """Wait for ``thread`` to end (its worker must already have been asked to stop), then deliver the
    signals its worker queued to ``receiver``, so the caller has everything the worker sent."""
    thread.quit()
    thread.wait()
    QCoreApplication.sendPostedEvents(receiver, QEvent.Type.MetaCall)
