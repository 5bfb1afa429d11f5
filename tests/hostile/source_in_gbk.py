# -*- coding: gbk -*-
"""作业三：反向传播。源文件以 GBK 编码保存（中文 Windows 上的记事本默认如此）。

预期结果：评分程序识别编码，像 UTF-8 文件一样评分：NumPy 部分的检查全部通过。
Saved in GBK with a coding line, as Notepad on Chinese Windows does.
Expected verdict: decoded and graded like any UTF-8 file (the NumPy checks pass).
"""

import numpy as np

学习率说明 = "权重更新：新权重 = 旧权重 - 学习率 × 梯度"


def 激活函数(z):
    # 激活函数：S 型函数 1 / (1 + exp(-z))
    return 1.0 / (1.0 + np.exp(-z))


def np_forward(x, w, act="sigmoid"):
    # 前向传播：隐藏层 h1、h2，输出层 o1、o2（注意权重编号）
    隐藏层 = 激活函数(np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
    输出层 = 激活函数(np.array([w[4] * 隐藏层[0] + w[6] * 隐藏层[1], w[5] * 隐藏层[0] + w[7] * 隐藏层[1]]))
    return 隐藏层, 输出层


def np_backward(x, y, w, act="sigmoid"):
    # 反向传播：链式法则，先求输出层误差项，再求隐藏层误差项
    h, o = np_forward(x, w)
    输出误差 = (o - y) * o * (1 - o)
    隐藏误差 = np.array([输出误差[0] * w[4] + 输出误差[1] * w[5], 输出误差[0] * w[6] + 输出误差[1] * w[7]]) * h * (1 - h)
    return np.array([隐藏误差[0] * x[0], 隐藏误差[1] * x[0], 隐藏误差[0] * x[1], 隐藏误差[1] * x[1],
                     输出误差[0] * h[0], 输出误差[1] * h[0], 输出误差[0] * h[1], 输出误差[1] * h[1]])


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    # 训练：每个周期先记录更新前的损失，再更新全部八个权重
    w = np.array(w, dtype=float)
    损失记录 = []
    for _ in range(epochs):
        _, o = np_forward(x, w)
        损失记录.append(0.5 * float(np.sum((o - y) ** 2)))
        w = w - lr * np_backward(x, y, w)
    return w, np.array(损失记录)
