"""The local link's output allocator: blocks Node releases in any order, and releases it must not trust."""

from tfbridge_worker.regions import ALIGN, Allocator


def test_blocks_merge_back_whatever_the_release_order():
    a = Allocator(4 * ALIGN)
    blocks = [a.alloc(ALIGN) for _ in range(4)]
    assert blocks == [0, ALIGN, 2 * ALIGN, 3 * ALIGN] and a.alloc(1) is None
    for offset in (2 * ALIGN, 0, 3 * ALIGN, ALIGN):
        a.release(offset, ALIGN)
    assert a.alloc(4 * ALIGN) == 0


def test_a_release_of_free_space_is_ignored():
    a = Allocator(2 * ALIGN)
    a.alloc(ALIGN)
    a.release(ALIGN, ALIGN)  # never handed out: overlaps the free block
    a.release(-ALIGN, ALIGN)
    assert a.free == [[ALIGN, ALIGN]]
