"""Synthetic Chinese place and person names for the demo city (clearly fictional)."""

from __future__ import annotations

import numpy as np

PLACE_WORDS = [
    "东湖",
    "西溪",
    "南山",
    "北苑",
    "文华",
    "和平",
    "建设",
    "新华",
    "长庆",
    "湖滨",
    "青石",
    "锦绣",
    "翠竹",
    "明月",
    "桃源",
    "柳营",
    "丰收",
    "朝晖",
    "清波",
    "望江",
    "采荷",
    "凯旋",
    "潮鸣",
    "闸弄",
    "紫阳",
    "小营",
    "天水",
    "武林",
    "米市",
    "石桥",
    "宝善",
    "华藏",
    "梅林",
    "银杏",
    "金沙",
    "玉泉",
    "云栖",
    "凤起",
    "秋涛",
    "春江",
    "夏荷",
    "冬青",
    "松涛",
    "竹园",
    "兰亭",
    "菊香",
    "荷塘",
    "芦花",
    "枫林",
    "樱花",
    "桂苑",
    "梧桐",
    "月桂",
    "星河",
]
SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
]
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "玉",
    "萍",
    "红",
    "建",
    "文",
    "斌",
]
CHINESE_NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]


def place_names(count: int, suffix: str, rng: np.random.Generator) -> list[str]:
    """``count`` distinct names like 西溪街道; a number is added once two-word names run out."""
    words = np.array(PLACE_WORDS)
    pairs = [a + b for a in words for b in words if a != b]
    order = rng.permutation(len(words))
    singles = [words[i] for i in order]
    pool = singles + [pairs[i] for i in rng.permutation(len(pairs))]
    names = pool[:count]
    names += [f"{pool[i % len(pool)]}{i // len(pool) + 1}" for i in range(len(names), count)]
    return [name + suffix for name in names]


def district_names(count: int) -> list[str]:
    if count == 1:
        return ["示例区"]
    return [f"示例{_numeral(i + 1)}区" for i in range(count)]


def _numeral(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CHINESE_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CHINESE_NUMERALS[ones - 1] if ones else "")


def person_names(count: int, rng: np.random.Generator) -> np.ndarray:
    surname = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), count)]
    given = np.array(GIVEN)[rng.integers(0, len(GIVEN), count)]
    second = np.where(rng.random(count) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), count)], "")
    return np.char.add(np.char.add(surname, given), second)


def phone_numbers(count: int, rng: np.random.Generator) -> np.ndarray:
    prefix = np.array(["139", "138", "137", "186", "158", "150", "189", "177"])[rng.integers(0, 8, count)]
    return np.char.add(prefix, np.char.zfill(rng.integers(0, 100_000_000, count).astype(str), 8))
